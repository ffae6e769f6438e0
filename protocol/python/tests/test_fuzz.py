"""Seeded mutation fuzzing: whatever the bytes, decode returns a frame or raises WireError
(never IndexError, struct.error, ValueError...), and what it accepts re-encodes byte for byte.
MEOW_FUZZ_ITERATIONS runs longer."""

import os
from pathlib import Path

import numpy as np

from meow_client import wire
from meow_client.mutate import mutate, reseal

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
ITERATIONS = int(os.environ.get("MEOW_FUZZ_ITERATIONS", "20000"))


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
