#!/usr/bin/env python3
"""Learning parity: distributed training (`meow train --actors N`) against the single-process loop.

    python3 benchmarks/parity.py [--bin .build/release] [--seeds 1 2 3 4 5] [--actors 0 2 4]
                                 [--steps 20000] [--points 5000 10000 20000] [--out DIR]

Every (actors, seed) pair trains Pendulum for `--steps` environment steps with deterministic
evaluation every `--every` steps (10 episodes, reset seeds 0..9). Actors 0 means the single-process
`meow train`. Runs already finished in `--out` are reused, so the command can be stopped and
continued. It prints, per configuration and evaluation point, the mean and sample standard
deviation of `Test/return` over seeds, and whether each distributed mean lies within the
single-process mean ± 2 standard errors. `--table` writes the rows as TSV.
"""

import argparse
import csv
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_returns(run_dir: Path) -> dict[int, float]:
    """Test/return per env step from a run's metrics.csv."""
    path = run_dir / "metrics.csv"
    returns: dict[int, float] = {}
    if not path.exists():
        return returns
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            if row["tag"] == "Test/return":
                returns[int(row["step"])] = float(row["value"])
    return returns


def value_at(returns: dict[int, float], point: int, every: int) -> float | None:
    """The evaluation at `point`, or the first one after it within one interval.

    The distributed learner evaluates when accepted batches cross a multiple of the interval, so
    its points can fall a batch late (5,008 rather than 5,000).
    """
    after = [step for step in returns if point <= step < point + every]
    return returns[min(after)] if after else None


def train(binary: Path, run_dir: Path, seed: int, actors: int, steps: int, every: int) -> float:
    """Trains one run unless its policy already exists; returns the wall-clock seconds (0 if reused)."""
    if (run_dir / "policy.safetensors").exists() and max(test_returns(run_dir), default=0) >= steps:
        return 0.0
    command = [str(binary / "meow"), "train", "--env", "pendulum", "--seed", str(seed), "--steps", str(steps),
               "--eval-every", str(every), "--run-dir", str(run_dir), "--overwrite", "--quiet"]
    if actors:
        command += ["--actors", str(actors)]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return time.monotonic() - started


def summary(values: list[float]) -> tuple[float, float, float]:
    """Mean, sample standard deviation and standard error."""
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std, std / math.sqrt(len(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, default=ROOT / ".build" / "release")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--actors", type=int, nargs="+", default=[0, 2, 4])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--every", type=int, default=5000)
    parser.add_argument("--points", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "parity")
    parser.add_argument("--table", type=Path, help="write the per-run Test/return rows here (TSV)")
    args = parser.parse_args()

    results: dict[int, dict[int, dict[int, float]]] = {}
    for actors in args.actors:
        for seed in args.seeds:
            run_dir = args.out / f"actors{actors}-seed{seed}"
            seconds = train(args.bin, run_dir, seed, actors, args.steps, args.every)
            found = test_returns(run_dir)
            returns = {point: value_at(found, point, args.every) for point in args.points}
            missing = [point for point, value in returns.items() if value is None]
            if missing:
                sys.exit(f"{run_dir}/metrics.csv has no Test/return at steps {missing}")
            results.setdefault(actors, {})[seed] = returns
            note = f"{seconds:.0f} s" if seconds else "reused"
            print(f"actors {actors} seed {seed}: " + ", ".join(
                f"{point}: {returns[point]:.1f}" for point in args.points) + f" ({note})", flush=True)

    if args.table:
        with open(args.table, "w") as file:
            file.write("actors\tseed\tstep\ttest_return\n")
            for actors, seeds in results.items():
                for seed, returns in seeds.items():
                    for point in args.points:
                        file.write(f"{actors}\t{seed}\t{point}\t{returns[point]:.3f}\n")

    reference = results.get(0)
    print("\nTest/return, mean ± std over seeds " + " ".join(str(s) for s in args.seeds))
    print("actors\t" + "\t".join(f"{point}" for point in args.points))
    verdicts = []
    for actors, seeds in results.items():
        cells = []
        for point in args.points:
            mean, std, _ = summary([seeds[seed][point] for seed in args.seeds])
            cell = f"{mean:.1f} ± {std:.1f}"
            if reference is not None and actors != 0:
                ref_mean, _, ref_se = summary([reference[seed][point] for seed in args.seeds])
                inside = abs(mean - ref_mean) <= 2 * ref_se
                verdicts.append(inside)
                cell += " (within)" if inside else f" (outside {ref_mean:.1f} ± {2 * ref_se:.1f})"
            cells.append(cell)
        label = "single" if actors == 0 else str(actors)
        print(f"{label}\t" + "\t".join(cells))
    if verdicts:
        print(f"\nparity holds at {sum(verdicts)} of {len(verdicts)} points")


if __name__ == "__main__":
    main()
