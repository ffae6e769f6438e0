"""Seeded mutation fuzzing: whatever the bytes, decode returns a frame or raises WireError
(never IndexError, struct.error, ValueError...), and what it accepts re-encodes byte for byte.
MEOW_FUZZ_ITERATIONS runs longer."""

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from meow_client import wire

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
ITERATIONS = int(os.environ.get("MEOW_FUZZ_ITERATIONS", "20000"))
WORDS = [0, 1, 2, 3, 4, 8, 11, 255, 256, 1024, 4096, 8192, 65535, 65536, 0x7FFFFFFF, 0x80000000,
         0xFFFFFFF0, 0xFFFFFFFF]


def reseal(data: bytearray) -> bytes:
    struct.pack_into("<I", data, 16, len(data) - 24)
    struct.pack_into("<I", data, 20, zlib.crc32(bytes(data[24:]), zlib.crc32(bytes(data[:20]))))
    return bytes(data)


def mutate(data: bytes, corpus, rng) -> bytearray:
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
            struct.pack_into("<I", b, i, (WORDS[int(rng.integers(0, len(WORDS)))] + int(rng.integers(-2, 3))) % 2**32)
        elif kind == 4:
            other = corpus[int(rng.integers(0, len(corpus)))]
            b = b[:int(rng.integers(0, len(b) + 1))] + other[int(rng.integers(0, len(other) + 1)):]
        elif kind == 5 and b:
            b[int(rng.integers(0, len(b)))] = [0, 1, 0x7F, 0x80, 0xFF][int(rng.integers(0, 5))]
        elif kind == 6:
            del b[int(rng.integers(0, len(b) + 1)):]
    return b


def test_mutated_frames_raise_only_wire_errors():
    corpus = [p.read_bytes() for p in sorted(VECTORS.glob("*.bin"))]
    rng = np.random.default_rng(0xF022)
    accepted, codes = 0, {}
    for _ in range(ITERATIONS):
        b = mutate(corpus[int(rng.integers(0, len(corpus)))], corpus, rng)
        data = reseal(b) if len(b) >= 24 and rng.integers(0, 2) else bytes(b)
        try:
            frame = wire.decode(data)
        except wire.WireError as e:
            codes[e.code.name] = codes.get(e.code.name, 0) + 1
            continue
        accepted += 1
        assert wire.encode(frame) == data
    print(f"fuzz: {ITERATIONS} inputs, accepted {accepted}, rejected {sorted(codes.items())}")
    assert accepted + sum(codes.values()) == ITERATIONS
    assert codes.get("NON_FINITE", 0) + codes.get("INVALID_VALUE", 0) + codes.get("MALFORMED", 0) > 0
