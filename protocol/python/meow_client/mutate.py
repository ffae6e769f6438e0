"""Seeded frame mutations, for fuzzing a codec and for differential runs against another one.

``mutate`` flips bits, inserts, deletes, overwrites a word with a boundary value, splices in a
piece of another frame, or cuts the tail; ``reseal`` rewrites the header's payload length and
CRC-32 so that a decoder gets past the header checks to the mutated field. The test suite's
fuzzer and ``tools/differential_corpus.py`` (whose corpus the Swift codec decodes too) share them.
"""

from __future__ import annotations

import struct
import zlib
from typing import Sequence, Union

import numpy as np

from .wire import HEADER_SIZE

#: Boundary values a length, count or enum field is overwritten with (then nudged by -2..2).
WORDS = [0, 1, 2, 3, 4, 8, 11, 255, 256, 1024, 4096, 8192, 65535, 65536, 0x7FFFFFFF, 0x80000000,
         0xFFFFFFF0, 0xFFFFFFFF]


def reseal(data: Union[bytes, bytearray]) -> bytes:
    """``data`` with the header's payload length and checksum made to match its payload."""
    b = bytearray(data)
    struct.pack_into("<I", b, 16, len(b) - HEADER_SIZE)
    struct.pack_into("<I", b, 20, zlib.crc32(bytes(b[HEADER_SIZE:]), zlib.crc32(bytes(b[:20]))))
    return bytes(b)


def mutate(data: bytes, corpus: Sequence[bytes], rng: np.random.Generator) -> bytearray:
    """One to three random edits of ``data``; ``corpus`` supplies the pieces a splice takes."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 7))
        if kind == 0 and b:
            i = int(rng.integers(0, len(b)))
            b[i] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            i = int(rng.integers(0, len(b) + 1))
            b[i:i] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
        elif kind == 2 and b:
            i = int(rng.integers(0, len(b)))
            del b[i:i + int(rng.integers(1, 9))]
        elif kind == 3 and len(b) >= 4:
            i = int(rng.integers(0, len(b) - 3))
            word = WORDS[int(rng.integers(0, len(WORDS)))] + int(rng.integers(-2, 3))
            struct.pack_into("<I", b, i, word % 2**32)
        elif kind == 4:
            other = corpus[int(rng.integers(0, len(corpus)))]
            b = b[:int(rng.integers(0, len(b) + 1))] + other[int(rng.integers(0, len(other) + 1)):]
        elif kind == 5 and b:
            b[int(rng.integers(0, len(b)))] = [0, 1, 0x7F, 0x80, 0xFF][int(rng.integers(0, 5))]
        elif kind == 6:
            del b[int(rng.integers(0, len(b) + 1)):]
    return b
