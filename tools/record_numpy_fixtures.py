#!/usr/bin/env python3
"""Record numpy's seeded random streams and gymnasium's seeded resets for the Swift tests.

The Swift environments seed exactly as gymnasium does (`np.random.Generator(
np.random.PCG64(np.random.SeedSequence(seed)))`), so a seeded reset lands on the
state gymnasium draws. This script pins that down: for a set of seeds it records
the PCG64 state after seeding, the first raw 64-bit outputs, `uniform` and
`standard_normal` draws, and for seeds 0-9 the states and observations of
Pendulum-v1 and MountainCarContinuous-v0 after a seeded reset and after a
following unseeded one. Every float is an exact hexadecimal float64 (float32
observations are widened exactly).

A long run of normals checks the ziggurat's rare paths (the wedge tests and the
tail beyond r) through a 64-bit hash of every draw's bit pattern. Where numpy's
static library `numpy/random/lib/libnpyrandom.a` is a 64-bit little-endian ELF
archive (Linux wheels), its ziggurat tables are read out of the object file, so
the Swift test can compare the tables it builds with numpy's entry by entry.

Usage (from the repository root; rerun only when the fixtures must change):

    python3 tools/record_numpy_fixtures.py Tests/EnvironmentsTests/Fixtures

The output is deterministic for a given numpy and gymnasium version; both are
written into the file.
"""

import json
import struct
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

SEEDS = list(range(10)) + [2**32 + 5, 2**63, 2**64 - 1]
LONG_RUN = {"seed": 0, "count": 1_000_000}
UNIFORM_BOUNDS = (-1.5, 2.25)
HASH_MULTIPLIER = 0x100000001B3  # FNV-1a's 64-bit prime, used as a polynomial hash
MASK64 = (1 << 64) - 1


def hexes(values):
    return [float(v).hex() for v in values]


def words(values):
    return ["%016x" % int(v) for v in values]


def stream_hash(values):
    """h = h * HASH_MULTIPLIER + bits(x) mod 2**64 over the draws' float64 bit patterns."""
    h = 0
    for bits in np.asarray(values, dtype=np.float64).view(np.uint64).tolist():
        h = (h * HASH_MULTIPLIER + bits) & MASK64
    return "%016x" % h


def record_seed(seed):
    bit_generator = np.random.PCG64(np.random.SeedSequence(seed))
    state = bit_generator.state["state"]
    record = {
        "seed": str(seed),
        "state": words([state["state"] >> 64, state["state"] & MASK64, state["inc"] >> 64, state["inc"] & MASK64]),
        "uint64": words(bit_generator.random_raw(20)),
    }
    low, high = UNIFORM_BOUNDS
    record["uniform"] = hexes(np.random.Generator(np.random.PCG64(seed)).uniform(low, high, size=20))
    record["standard_normal"] = hexes(np.random.Generator(np.random.PCG64(seed)).standard_normal(50))
    return record


def record_long_run():
    """A long run of normals: its hash, and a few hundred raw values around the first tail draw."""
    draws = np.random.Generator(np.random.PCG64(LONG_RUN["seed"])).standard_normal(LONG_RUN["count"])
    # |x| > r only comes out of the tail sampler.
    tail = np.flatnonzero(np.abs(draws) > 3.6541528853610088)
    start = max(0, int(tail[0]) - 150)
    return {
        **LONG_RUN,
        "hash": stream_hash(draws),
        "tail_draws": int(tail.size),
        "window_start": start,
        "window": hexes(draws[start : start + 300]),
    }


def record_resets(env_id, seed):
    env = gym.make(env_id)
    observation, _ = env.reset(seed=seed)
    first = {"state": hexes(np.asarray(env.unwrapped.state, dtype=np.float64)), "observation": hexes(observation)}
    observation, _ = env.reset()
    second = {"state": hexes(np.asarray(env.unwrapped.state, dtype=np.float64)), "observation": hexes(observation)}
    env.close()
    return {"seed": seed, "seeded": first, "unseeded": second}


def ar_members(blob):
    """(name, bytes) of each member of a System V / GNU ar archive."""
    position, long_names = 8, b""
    while position + 60 <= len(blob):
        header = blob[position : position + 60]
        name = header[:16].decode().strip()
        size = int(header[48:58].decode().strip())
        data = blob[position + 60 : position + 60 + size]
        if name == "//":
            long_names = data
        elif name.startswith("/") and name[1:].isdigit():
            offset = int(name[1:])
            name = long_names[offset : long_names.index(b"/\n", offset)].decode()
        yield name.rstrip("/"), data
        position += 60 + size + (size & 1)


def elf_symbol_bytes(obj, wanted):
    """The initial bytes of the named data symbols of a 64-bit little-endian ELF object."""
    section_offset, = struct.unpack_from("<Q", obj, 0x28)
    entry_size, count = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, section_offset + i * entry_size) for i in range(count)]
    found = {}
    for section in sections:
        if section[1] != 2:  # SHT_SYMTAB
            continue
        strings = sections[section[6]]
        for k in range(section[5] // section[9]):
            name_at, _, _, index, value, size = struct.unpack_from("<IBBHQQ", obj, section[4] + k * section[9])
            start = strings[4] + name_at
            name = obj[start : obj.index(b"\0", start)].decode()
            if name in wanted and 0 < index < len(sections) and sections[index][1] != 8:  # not SHT_NOBITS
                found[name] = obj[sections[index][4] + value : sections[index][4] + value + size]
    return found


def numpy_ziggurat_tables():
    """numpy's ki_double, wi_double and fi_double as 64-bit words, or None where they cannot be read."""
    library = Path(np.__file__).parent / "random" / "lib" / "libnpyrandom.a"
    if not library.exists():
        return None
    blob = library.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        return None
    names = ("ki_double", "wi_double", "fi_double")
    for _, obj in ar_members(blob):
        if not obj.startswith(b"\x7fELF\x02\x01"):
            continue
        found = elf_symbol_bytes(obj, names)
        if all(len(found.get(name, b"")) == 256 * 8 for name in names):
            return {name.split("_")[0]: words(struct.unpack("<256Q", found[name])) for name in names}
    return None


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/EnvironmentsTests/Fixtures")
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "generator": "tools/record_numpy_fixtures.py",
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
        "uniform_bounds": hexes(UNIFORM_BOUNDS),
        "seeds": [record_seed(seed) for seed in SEEDS],
        "long_run": record_long_run(),
        "ziggurat_tables": numpy_ziggurat_tables(),
        "pendulum": [record_resets("Pendulum-v1", seed) for seed in range(10)],
        "mountaincar": [record_resets("MountainCarContinuous-v0", seed) for seed in range(10)],
    }
    path = out / "numpy_streams.json"
    path.write_text(json.dumps(document, indent=1) + "\n")
    tables = "with" if document["ziggurat_tables"] else "without"
    print(f"wrote {path}: {len(SEEDS)} seeds, {tables} numpy's ziggurat tables")


if __name__ == "__main__":
    main()
