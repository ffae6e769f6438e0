#!/usr/bin/env python3
"""Raw stepping rate: meow's native MuJoCo tasks against gymnasium's, measured in one run.

For each task, alternately (A, B, A, B, …): `meow-bench env --env NAME --json` (Swift, MuJoCo 2.2.2
through dlopen) and gymnasium's registered v4 environment in this Python (its `mujoco` package),
both stepping uniform random actions with no policy, resetting with seeds 0, 1, 2, … as episodes
end. Prints each median and the ratio native / gymnasium.

    .venv-fixtures/bin/python benchmarks/env_stepping.py              # Hopper and Humanoid
    .venv-fixtures/bin/python benchmarks/env_stepping.py --env hopper --rounds 5

Needs gymnasium with MuJoCo in the interpreter that runs it (docs/mujoco.md: gymnasium 0.29.1
with mujoco 2.3.3, the paper's versions) and a release build of meow-bench.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GYMNASIUM_IDS = {"hopper": "Hopper-v4", "walker2d": "Walker2d-v4", "halfcheetah": "HalfCheetah-v4",
                 "ant": "Ant-v4", "humanoid": "Humanoid-v4"}


def gymnasium_rate(env_id: str, steps: int) -> float:
    import gymnasium as gym
    env = gym.make(env_id)
    rng = np.random.default_rng(12345)
    seed = 0
    env.reset(seed=seed)
    low, high = env.action_space.low, env.action_space.high

    def step_many(count: int) -> None:
        nonlocal seed
        for _ in range(count):
            action = (low + (high - low) * (rng.uniform(-1, 1, size=low.shape) + 1) / 2).astype(np.float32)
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                seed += 1
                env.reset(seed=seed)

    step_many(min(steps, 1000))
    start = time.perf_counter()
    step_many(steps)
    return steps / (time.perf_counter() - start)


def native_rate(bench: Path, name: str, steps: int) -> float:
    out = subprocess.run([str(bench), "env", "--env", name, "--steps", str(steps), "--repeats", "1", "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["steps_per_second"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", nargs="+", default=["hopper", "humanoid"], choices=sorted(GYMNASIUM_IDS))
    parser.add_argument("--steps", type=int, default=10_000, help="steps per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds; medians are reported")
    parser.add_argument("--bench", type=Path, default=ROOT / ".build" / "release" / "meow-bench")
    args = parser.parse_args()

    import gymnasium
    import mujoco
    print(f"gymnasium {gymnasium.__version__}, mujoco {mujoco.__version__} (Python); meow-bench {args.bench}")
    print(f"{'task':<12}{'native steps/s':>16}{'gymnasium steps/s':>20}{'native / gymnasium':>20}")
    for name in args.env:
        native, gym_rates = [], []
        for _ in range(args.rounds):
            native.append(native_rate(args.bench, name, args.steps))
            gym_rates.append(gymnasium_rate(GYMNASIUM_IDS[name], args.steps))
        a, b = statistics.median(native), statistics.median(gym_rates)
        print(f"{name:<12}{a:>16.0f}{b:>20.0f}{a / b:>20.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
