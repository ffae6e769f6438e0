#!/usr/bin/env python3
"""Says whether two `meow train` run directories trained the same thing.

Usage: scripts/compare_runs.py BASELINE_RUN_DIR CANDIDATE_RUN_DIR

The same means: policy.safetensors byte for byte, and metrics.csv row for row (step, tag,
value, in order) once the wall-clock rows are left out (`charts/SPS`, the only tag whose value
depends on the machine's speed). Exits 0 when both agree, 1 with the first difference otherwise.
Used to check that a change to the training engine preserves behaviour (docs/checkpoints.md).
"""
import sys
from pathlib import Path

WALL_CLOCK_TAGS = {"charts/SPS"}


def metric_rows(run: Path) -> list[str]:
    lines = (run / "metrics.csv").read_text().splitlines()
    return [line for line in lines[1:] if line.split(",")[1] not in WALL_CLOCK_TAGS]


def compare(baseline: Path, candidate: Path) -> list[str]:
    problems = []
    a = (baseline / "policy.safetensors").read_bytes()
    b = (candidate / "policy.safetensors").read_bytes()
    if a != b:
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        problems.append(f"policy.safetensors differs: {len(a)} and {len(b)} bytes, first difference at byte {first}")
    rows_a, rows_b = metric_rows(baseline), metric_rows(candidate)
    if rows_a != rows_b:
        index = next((i for i, (x, y) in enumerate(zip(rows_a, rows_b)) if x != y), min(len(rows_a), len(rows_b)))
        shown = lambda rows: rows[index] if index < len(rows) else "(no row)"
        problems.append(f"metrics.csv differs ({len(rows_a)} and {len(rows_b)} rows without {sorted(WALL_CLOCK_TAGS)}); "
                        f"row {index + 1}: {shown(rows_a)!r} against {shown(rows_b)!r}")
    else:
        print(f"metrics.csv: {len(rows_a)} rows identical (wall-clock tags {sorted(WALL_CLOCK_TAGS)} left out)")
    if a == b:
        print(f"policy.safetensors: {len(a)} bytes identical")
    return problems


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
