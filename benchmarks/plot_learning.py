#!/usr/bin/env python3
"""Learning curves as a PNG: mean and spread over seeds of Test/return against env steps.

Reads each run directory's metrics.csv (rows `step,tag,value`; the Test/return rows are the
deterministic evaluations). Seeds are aligned on the evaluation steps they share. The bridge
curve, if given, comes from the results.tsv that benchmarks/hopper.sh writes (one row per seed
and evaluation step).

    .venv/bin/python benchmarks/plot_learning.py runs/bench-native/hopper-seed* \
        --bridge /tmp/hopper-bench/results.tsv --title "Hopper-v4" --out docs/hopper-learning.png

Needs matplotlib (benchmarks/requirements.txt), which the test suite does not.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np


def evaluations(run_dir: Path) -> dict[int, float]:
    """Test/return by env step from one run's metrics.csv (the last row wins for a repeated step)."""
    points: dict[int, float] = {}
    with open(run_dir / "metrics.csv", newline="") as rows:
        for row in csv.DictReader(rows):
            if row["tag"] == "Test/return":
                points[int(row["step"])] = float(row["value"])
    return points


def bridge_points(path: Path) -> dict[int, list[float]]:
    """Per env step, the seeds' evaluation means from benchmarks/hopper.sh's results.tsv."""
    by_step: dict[int, list[float]] = defaultdict(list)
    with open(path, newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            by_step[int(row["env_steps"])].append(float(row["eval_mean"]))
    return dict(by_step)


def summary(by_step: dict[int, list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    steps = np.array(sorted(by_step))
    values = [np.array(by_step[s]) for s in steps]
    return (steps, np.array([v.mean() for v in values]), np.array([v.min() for v in values]),
            np.array([v.max() for v in values]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories, one per seed")
    parser.add_argument("--bridge", type=Path, help="results.tsv of benchmarks/hopper.sh, drawn beside")
    parser.add_argument("--bridge-label", default="gymnasium bridge", help="legend text of the bridge curve")
    parser.add_argument("--title", default="Hopper-v4")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_seed = [evaluations(run) for run in args.runs]
    per_seed = [points for points in per_seed if points]
    if not per_seed:
        print("no Test/return rows in the given runs", file=sys.stderr)
        return 1
    shared = set.intersection(*(set(points) for points in per_seed))
    native = {step: [points[step] for points in per_seed] for step in shared}

    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    steps, mean, low, high = summary(native)
    axes.plot(steps, mean, color="tab:blue", label=f"native MuJoCo, mean of {len(per_seed)} seeds")
    axes.fill_between(steps, low, high, color="tab:blue", alpha=0.2, label="native, min–max over seeds")
    if args.bridge:
        steps, mean, low, high = summary(bridge_points(args.bridge))
        axes.plot(steps, mean, "o--", color="tab:orange", label=f"{args.bridge_label}, mean and min–max over seeds")
        axes.fill_between(steps, low, high, color="tab:orange", alpha=0.15)
    axes.set_xlabel("environment steps")
    axes.set_ylabel("Test/return (10 deterministic episodes)")
    axes.set_title(args.title)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out)
    print(f"wrote {args.out}: {len(per_seed)} seeds, evaluation steps {sorted(shared)[:3]}…{sorted(shared)[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
