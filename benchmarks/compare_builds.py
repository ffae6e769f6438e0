#!/usr/bin/env python3
"""Before/after benchmark ratios of two builds, measured alternately in one run.

    python3 benchmarks/compare_builds.py OLD_BIN_DIR NEW_BIN_DIR [--rounds 3] [--skip-distributed]

Each round runs `meow-bench meow` and `benchmarks/distributed.py --quick` once with the old
binaries and once with the new (the order alternates between rounds, so a drift in the
machine's load does not favour one side). Every figure both print is collected; the table gives
each one's median per build over the rounds and the ratio new ÷ old of those medians, with
whether higher or lower is better. Nothing is divided by a constant: both sides are measured
here, on this machine, in this run.
"""
import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# meow-bench meow prints "<case>  <µs/call>  ..." rows, columns separated by two or more spaces.
COLUMNS = re.compile(r"\s{2,}")
NUMBER = re.compile(r"^\d+(\.\d+)?$")

DISTRIBUTED_PATTERNS = [
    # (metric name template, regex, higher is better)
    ("ingest spi {0} peers {1} transitions/s",
     re.compile(r"samples-per-insert\s+([\d.]+): +(\d+) peers: +(\d+) transitions/s ingested; learner +([\d.]+) updates/s"),
     True),
    ("weights {0} p50 ms", re.compile(r"^\s+(\w+)\s+\d+ KiB: p50 +([\d.]+) ms, p99 +([\d.]+) ms"), False),
    ("end-to-end", re.compile(r"single process: +(\d+) steps/s;  learner \+ 2 actor processes: +(\d+) steps/s"), True),
]


def run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"compare_builds: {' '.join(command)} failed with exit {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def meow_bench(bin_dir: Path, repeats: int) -> dict[str, tuple[float, bool]]:
    out = run([str(bin_dir / "meow-bench"), "meow", "--clock", "thread", "--repeats", str(repeats)])
    figures = {}
    for line in out.splitlines():
        if "floor" in line or line.startswith(("case", "MEow", "BLAS", "GEMM", "sgemm")):
            continue
        columns = COLUMNS.split(line.strip())
        if len(columns) >= 2 and NUMBER.match(columns[1]):
            figures[f"meow-bench {columns[0]} µs/call"] = (float(columns[1]), False)
    return figures


def distributed(bin_dir: Path) -> dict[str, tuple[float, bool]]:
    out = run([sys.executable, "benchmarks/distributed.py", "--quick", "--bin", str(bin_dir)])
    figures = {}
    for line in out.splitlines():
        if m := DISTRIBUTED_PATTERNS[0][1].search(line):
            figures[f"ingest spi {m[1]}, {m[2]} peers, transitions/s"] = (float(m[3]), True)
            figures[f"ingest spi {m[1]}, {m[2]} peers, learner updates/s"] = (float(m[4]), True)
        elif m := DISTRIBUTED_PATTERNS[1][1].search(line):
            figures[f"weights pull {m[1]} p50 ms"] = (float(m[2]), False)
            figures[f"weights pull {m[1]} p99 ms"] = (float(m[3]), False)
        elif m := DISTRIBUTED_PATTERNS[2][1].search(line):
            figures["end-to-end single process steps/s"] = (float(m[1]), True)
            figures["end-to-end learner + 2 actors steps/s"] = (float(m[2]), True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("old", type=Path, help="directory with the old build's binaries")
    parser.add_argument("new", type=Path, help="directory with the new build's binaries")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="meow-bench meow repeats per run")
    parser.add_argument("--skip-distributed", action="store_true")
    args = parser.parse_args()
    for directory in (args.old, args.new):
        if not (directory / "meow-bench").exists():
            sys.exit(f"compare_builds: {directory} has no meow-bench binary (give a release build directory)")

    samples: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    better_high: dict[str, bool] = {}
    for round_index in range(args.rounds):
        order = [("old", args.old), ("new", args.new)]
        if round_index % 2:
            order.reverse()
        for side, bin_dir in order:
            print(f"round {round_index + 1}/{args.rounds}: {side} ({bin_dir})", file=sys.stderr, flush=True)
            figures = meow_bench(bin_dir, args.repeats)
            if not args.skip_distributed:
                figures |= distributed(bin_dir)
            for name, (value, high) in figures.items():
                samples[side].setdefault(name, []).append(value)
                better_high[name] = high

    print(f"{'figure':58s} {'old':>10s} {'new':>10s} {'new/old':>8s}  better")
    for name in samples["old"]:
        if name not in samples["new"]:
            continue
        old, new = statistics.median(samples["old"][name]), statistics.median(samples["new"][name])
        ratio = new / old if old else float("nan")
        print(f"{name:58s} {old:10.1f} {new:10.1f} {ratio:8.3f}  {'higher' if better_high[name] else 'lower'}")


if __name__ == "__main__":
    main()
