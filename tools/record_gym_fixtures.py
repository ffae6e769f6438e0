#!/usr/bin/env python3
"""Record gymnasium trajectories that the Swift environment tests replay.

Each episode stores its seed, the internal state gymnasium drew at reset (as
exact hexadecimal float64), the float32 actions taken, and per step the
observation, reward, terminated and truncated flags that gymnasium's registered
environment (with its TimeLimit) returned. The Swift environments seed as
gymnasium does (numpy's SeedSequence and PCG64, pinned separately by
tools/record_numpy_fixtures.py), so the Swift test resets with the same seed,
checks that it lands on the recorded state, and replays the actions.

Usage (from the repository root; rerun only when the fixtures must change):

    python3 tools/record_gym_fixtures.py Tests/EnvironmentsTests/Fixtures

The output is deterministic for a given gymnasium and numpy version; both are
written into the files.
"""

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np


def shortest_float32(x):
    """The shortest decimal that reads back as this float32 value."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def record_episode(env_id, name, seed, choose_action, max_steps=None):
    """Run one episode until it ends (or `max_steps`), recording every step.

    `choose_action(step, observation, rng)` returns a Python float; it is cast to
    float32, the dtype of both action spaces, before stepping.
    """
    env = gym.make(env_id)
    observation, _ = env.reset(seed=seed)
    state = np.asarray(env.unwrapped.state, dtype=np.float64)
    rng = np.random.default_rng(seed + 1000)
    episode = {
        "env": env_id,
        "name": name,
        "seed": seed,
        "initial_state": [float(v).hex() for v in state],
        "initial_observation": [shortest_float32(v) for v in observation],
        "actions": [],
        "observations": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
    }
    step = 0
    while True:
        action = np.array([choose_action(step, observation, rng)], dtype=np.float32)
        observation, reward, terminated, truncated, _ = env.step(action)
        episode["actions"].append([shortest_float32(v) for v in action])
        episode["observations"].append([shortest_float32(v) for v in observation])
        episode["rewards"].append(float(reward))
        episode["terminated"].append(bool(terminated))
        episode["truncated"].append(bool(truncated))
        step += 1
        if terminated or truncated or (max_steps is not None and step >= max_steps):
            break
    env.close()
    return episode


def uniform_with_spikes(bound, spike):
    """Uniform actions in [-bound, bound], with every 13th action outside the bounds.

    The out-of-range actions exercise the environments' own clipping.
    """

    def choose(step, _observation, rng):
        if step % 13 == 12:
            return spike if (step // 13) % 2 == 0 else -spike
        return float(rng.uniform(-bound, bound))

    return choose


def bang_bang(step, observation, _rng):
    """Push in the direction of motion: pumps energy until the car reaches the flag."""
    return 1.0 if observation[1] >= 0 else -1.0


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/EnvironmentsTests/Fixtures")
    out.mkdir(parents=True, exist_ok=True)
    versions = {"gymnasium": gym.__version__, "numpy": np.__version__}

    pendulum = [
        record_episode("Pendulum-v1", "random-torque-to-time-limit", 7, uniform_with_spikes(2.0, 3.5)),
        record_episode("Pendulum-v1", "constant-torque", 11, lambda *_: 1.25, max_steps=60),
    ]
    mountaincar = [
        record_episode("MountainCarContinuous-v0", "bang-bang-reaches-goal", 3, bang_bang),
        record_episode(
            "MountainCarContinuous-v0", "random-force-to-time-limit", 5, uniform_with_spikes(1.0, 1.75)
        ),
    ]
    assert pendulum[0]["truncated"][-1] and len(pendulum[0]["actions"]) == 200
    assert mountaincar[0]["terminated"][-1], "bang-bang did not reach the goal"
    assert mountaincar[1]["truncated"][-1] and len(mountaincar[1]["actions"]) == 999

    for filename, episodes in (("pendulum.json", pendulum), ("mountaincar.json", mountaincar)):
        document = {"generator": "tools/record_gym_fixtures.py", **versions, "episodes": episodes}
        (out / filename).write_text(json.dumps(document, separators=(",", ":")) + "\n")
        print(f"wrote {out / filename}: {len(episodes)} episodes")


if __name__ == "__main__":
    main()
