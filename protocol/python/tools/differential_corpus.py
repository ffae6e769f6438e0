#!/usr/bin/env python3
"""Write mutated frames with the Python codec's verdict, for a differential run of the Swift codec.

Each record: u32 LE length, the frame bytes, u16 LE error code (0 = decoded). The Swift test
`DifferentialTests` reads the file named by MEOW_DIFFERENTIAL_CORPUS and checks that its own
codec reaches the same verdict on every frame: the two codecs are written independently from
PROTOCOL.md, so any disagreement is a spec ambiguity or a bug in one of them.

Usage: python3 protocol/python/tools/differential_corpus.py OUT.bin [COUNT] [SEED]
"""

import struct
import sys
from pathlib import Path

import numpy as np

from meow_client import wire
from meow_client.mutate import mutate, reseal

HERE = Path(__file__).resolve()


def main():
    out = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    corpus = [p.read_bytes() for p in sorted((HERE.parents[2] / "vectors").glob("*.bin"))]
    records = bytearray()
    for _ in range(count):
        b = mutate(corpus[int(rng.integers(0, len(corpus)))], corpus, rng)
        data = reseal(b) if len(b) >= 24 and rng.integers(0, 2) else bytes(b)
        try:
            wire.decode(data)
            code = 0
        except wire.WireError as e:
            code = int(e.code)
        records += struct.pack("<I", len(data)) + data + struct.pack("<H", code)
    out.write_bytes(bytes(records))
    print(f"wrote {count} frames to {out}")


if __name__ == "__main__":
    main()
