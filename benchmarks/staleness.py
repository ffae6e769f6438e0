#!/usr/bin/env python3
"""Per-transition policy lag of `meow train --actors N` (Pendulum) with the default settings.

    python3 benchmarks/staleness.py [--bin .build/release] [--actors 2 8] [--steps 20000]
                                    [--outbox 1 2] [--seed 1] [--out DIR]

Each (actors, outbox) pair trains once; the learner's `learner-stats.json` at the end gives the
staleness of its last 16,384 accepted transitions (min, mean, p50, p99, max; docs/metrics.md,
"Staleness"), next to the env steps per second of the whole run. `--actors 2 --outbox 1` with
20,000 steps and seed 1 is exactly what `make demo` runs.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, default=ROOT / ".build" / "release")
    parser.add_argument("--actors", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--outbox", type=int, nargs="+", default=[1])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the run directories here (default: a temporary one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        base = args.out or Path(scratch)
        print("actors\toutbox\tmin\tmean\tp50\tp99\tmax\tenv steps/s")
        for actors in args.actors:
            for outbox in args.outbox:
                run_dir = base / f"actors{actors}-outbox{outbox}"
                config = base / f"config-outbox{outbox}.json"
                base.mkdir(parents=True, exist_ok=True)
                config.write_text(json.dumps({"env": "pendulum", "actor": {"outbox-capacity": outbox}}))
                command = [str(args.bin / "meow"), "train", "--env", "pendulum", "--actors", str(actors),
                           "--steps", str(args.steps), "--seed", str(args.seed), "--config", str(config),
                           "--run-dir", str(run_dir), "--overwrite", "--quiet"]
                started = time.monotonic()
                result = subprocess.run(command, capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
                stats = json.loads((run_dir / "learner-stats.json").read_text())
                lag = stats["staleness"]
                rate = stats["env_steps"] / max(1e-3, stats["elapsed_seconds"])
                print(f"{actors}\t{outbox}\t{lag['min']}\t{lag['mean']:.1f}\t{lag['p50']}\t{lag['p99']}\t{lag['max']}"
                      f"\t{rate:.0f}\t({time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
