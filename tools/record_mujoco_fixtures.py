#!/usr/bin/env python3
"""Record gymnasium's MuJoCo locomotion environments for the Swift MuJoCo tests.

For each of Hopper-v4, Walker2d-v4, HalfCheetah-v4, Ant-v4 and Humanoid-v4 (registered
defaults) this writes Tests/EnvironmentsTests/Fixtures/mujoco/<name>.json with

- `resets`: for seeds 0-9, the state `env.reset(seed=s)` drew (qpos, qvel as exact
  hexadecimal float64: the arrays reset passed to `set_state`) and the observation it
  returned. The drawn state is recorded rather than `data.qpos` afterwards because
  `mj_forward` (inside `set_state`) normalizes free-joint quaternions in `data.qpos` in
  place (Ant, Humanoid): setting the drawn state and calling `mj_forward` reproduces the
  observation bit for bit, setting the normalized one would renormalize it and may move
  the last bit.
  numpy's generators are not reproduced in Swift; the draws are pinned so that the Swift
  side can check its observation function on them, and the noise's range/scale.
- `steps`: single steps from about a dozen states (reached by random-action rollouts
  from several seeds, plus a few placed at the edge of the healthy range so that some
  steps terminate, and one taken at elapsed step 999 so that it truncates). Each record
  has the state set, the TimeLimit's elapsed step count before the step, the float32
  action (shortest decimal that reads back as that float32; a few lie outside the action
  box, since gymnasium passes them to MuJoCo unclipped and charges the control cost on
  them), the state after the step, and observation, reward, terminated and truncated.
- `horizons`: three runs (two for Humanoid, whose observations are long) of 50 steps of a fixed, seeded action sequence from recorded
  states; they do not stop at termination (the flag is recorded per step).
- `episodes`: three whole episodes from `reset(seed)` under fixed action sequences, with
  their return and length; these depend on numpy's reset draws, so they are reported,
  not replayed.

How states are set: gymnasium's `set_state` writes qpos/qvel and calls `mj_forward`, but
leaves the rest of `MjData` as it was, in particular `qacc_warmstart`, the constraint
solver's starting point, which the solver's result depends on to the last bit when
there are contacts. To make every record reproducible from its recorded state alone,
each `steps` and `horizons` record starts from a freshly reset `MjData`
(`mj_resetData`, exactly what `env.reset` does before drawing the noise), then
`set_state`; the Swift side must do the same (reset its data, set qpos/qvel, forward).
Within a horizon the data carries over from step to step, as in an episode.

Usage (from the repository root; needs the fixture venv, see tools/check_mujoco_models.py):

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install "gymnasium==0.29.1" "mujoco==2.3.3" "numpy<2" imageio
    .venv-fixtures/bin/python tools/record_mujoco_fixtures.py [Tests/EnvironmentsTests/Fixtures/mujoco] [hopper ...]

(imageio only because gymnasium's MuJoCo environments import their renderer.)
The output is deterministic for given gymnasium, mujoco and numpy versions, which are
written into each file.
"""

import json
import sys
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.wrappers import TimeLimit

ENVIRONMENTS = {
    "hopper": "Hopper-v4",
    "walker2d": "Walker2d-v4",
    "halfcheetah": "HalfCheetah-v4",
    "ant": "Ant-v4",
    "humanoid": "Humanoid-v4",
}
HORIZON = 50


def shortest_float32(x):
    """The shortest decimal that reads back as this float32 value."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def hexes(values):
    return [float(v).hex() for v in np.asarray(values, dtype=np.float64)]


def numbers(values):
    """float64 values as JSON numbers (Python's repr reads back to the same double)."""
    return [float(v) for v in np.asarray(values, dtype=np.float64)]


def time_limit(env):
    wrapper = env
    while not isinstance(wrapper, TimeLimit):
        wrapper = wrapper.env
    return wrapper


class Recorder:
    def __init__(self, name):
        self.name = name
        self.env_id = ENVIRONMENTS[name]
        self.env = gym.make(self.env_id)
        self.env.reset(seed=0)  # OrderEnforcing wants a reset before any step
        self.base = self.env.unwrapped
        self.limit = time_limit(self.env)
        self.low = self.env.action_space.low.astype(np.float32)
        self.high = self.env.action_space.high.astype(np.float32)

    def state(self):
        return self.base.data.qpos.copy(), self.base.data.qvel.copy()

    def action(self, rng, scale=1.0):
        return (scale * rng.uniform(self.low, self.high)).astype(np.float32)

    def place(self, qpos, qvel, elapsed):
        """Fresh MjData (as at reset), then gymnasium's own set_state, then the step count."""
        mujoco.mj_resetData(self.base.model, self.base.data)
        self.base.set_state(np.array(qpos, dtype=np.float64), np.array(qvel, dtype=np.float64))
        self.limit._elapsed_steps = elapsed

    def step(self, action):
        observation, reward, terminated, truncated, _ = self.env.step(action)
        return observation, float(reward), bool(terminated), bool(truncated)

    # -- sections -------------------------------------------------------------

    def resets(self):
        records = []
        drawn = []
        original = self.base.set_state
        self.base.set_state = lambda qpos, qvel: (drawn.append((qpos.copy(), qvel.copy())),
                                                  original(qpos, qvel))
        try:
            for seed in range(10):
                observation, _ = self.env.reset(seed=seed)
                qpos, qvel = drawn.pop()
                records.append({"seed": seed, "qpos": hexes(qpos), "qvel": hexes(qvel),
                                "observation": numbers(observation)})
        finally:
            del self.base.set_state
        return records

    def rollouts(self, seeds=(0, 1, 2, 3, 4, 5), length=200):
        """Random-action rollouts; returns, per seed, the visited states and the action
        that ended the rollout (when it terminated)."""
        runs = []
        for seed in seeds:
            self.env.reset(seed=seed)
            rng = np.random.default_rng(1000 + seed)
            visited, ending = [], None
            for t in range(length):
                qpos, qvel = self.state()
                visited.append((qpos, qvel, t))
                action = self.action(rng)
                _, _, terminated, _ = self.step(action)
                if terminated:
                    ending = action
                    break
            runs.append((visited, ending))
        return runs

    def edge_states(self, qpos, qvel):
        """States at the edge of the healthy range: (qpos, qvel) moving out, then in."""
        q, v = qpos.copy(), qvel.copy()
        if self.name == "hopper":      # healthy while the torso angle stays within +-0.2
            q[2], v[2] = 0.195, 3.0
            return [(q, v), (q.copy(), -v)]
        if self.name == "walker2d":    # healthy while 0.8 < z < 2 and |angle| < 1
            q[2], v[2] = 0.99, 3.0
            q2, v2 = qpos.copy(), qvel.copy()
            q2[1], v2[1] = 0.805, -3.0
            return [(q, v), (q2, v2), (q2.copy(), -v2)]
        if self.name == "ant":         # healthy while 0.2 <= z <= 1
            q[2], v[2] = 0.99, 3.0
            return [(q, v), (q.copy(), -v)]
        if self.name == "humanoid":    # healthy while 1 < z < 2
            q[2], v[2] = 1.01, -3.0
            return [(q, v), (q.copy(), -v)]
        return []                       # HalfCheetah never terminates

    def steps(self, runs):
        rng = np.random.default_rng(2000)
        chosen = []  # (qpos, qvel, elapsed, action)
        # Mid-rollout states from every seed, a few with actions outside the box.
        for i, (visited, _) in enumerate(runs):
            qpos, qvel, t = visited[len(visited) * (i + 1) // (len(runs) + 1)]
            chosen.append((qpos, qvel, t, self.action(rng, 1.5 if i % 3 == 2 else 1.0)))
        # The last state before a random rollout terminated, with the action that ended it.
        for visited, ending in runs:
            if ending is not None and len([c for c in chosen if c[2] == -1]) < 2:
                qpos, qvel, t = visited[-1]
                chosen.append((qpos, qvel, -1, ending))
        chosen = [(q, v, t if t >= 0 else 5, a) for q, v, t, a in chosen]
        # Hand-placed states at the healthy range's edge.
        qpos, qvel, _ = runs[0][0][min(10, len(runs[0][0]) - 1)]
        for q, v in self.edge_states(qpos, qvel):
            chosen.append((q, v, 17, self.action(rng)))
        # Where there are few terminal and edge states (HalfCheetah never terminates), more
        # mid-rollout states, later in the rollouts, to make about a dozen records.
        for i, (visited, _) in enumerate(runs):
            if len(chosen) >= 11:
                break
            qpos, qvel, t = visited[len(visited) * 3 // 4]
            chosen.append((qpos, qvel, t, self.action(rng, 1.5 if i % 2 else 1.0)))
        # The step that reaches the time limit.
        qpos, qvel, _ = runs[1][0][len(runs[1][0]) // 2]
        chosen.append((qpos, qvel, 999, self.action(rng)))

        records = []
        for qpos, qvel, elapsed, action in chosen:
            self.place(qpos, qvel, elapsed)
            observation, reward, terminated, truncated = self.step(action)
            next_qpos, next_qvel = self.state()
            records.append({
                "qpos": hexes(qpos), "qvel": hexes(qvel), "elapsed_steps": int(elapsed),
                "action": [shortest_float32(a) for a in action],
                "next_qpos": hexes(next_qpos), "next_qvel": hexes(next_qvel),
                "observation": numbers(observation), "reward": reward,
                "terminated": terminated, "truncated": truncated,
            })
        return records

    def horizons(self, runs):
        starts = []
        self.env.reset(seed=0)
        starts.append(self.state())                       # as drawn at reset(seed=0)
        # Humanoid's observation has 376 entries: two horizons only, to keep its file
        # under 1 MB.
        for i in ((1,) if self.name == "humanoid" else (1, 2)):
            visited = runs[i][0]
            qpos, qvel, _ = visited[len(visited) // 3]    # part-way through a rollout
            starts.append((qpos, qvel))
        records = []
        for i, (qpos, qvel) in enumerate(starts):
            rng = np.random.default_rng(3000 + i)
            actions = [self.action(rng) for _ in range(HORIZON)]
            self.place(qpos, qvel, 0)
            record = {"qpos": hexes(qpos), "qvel": hexes(qvel),
                      "actions": [[shortest_float32(a) for a in action] for action in actions],
                      "observations": [], "rewards": [], "terminated": []}
            for action in actions:
                observation, reward, terminated, _ = self.step(action)
                record["observations"].append(numbers(observation))
                record["rewards"].append(reward)
                record["terminated"].append(terminated)
            records.append(record)
        return records

    def episodes(self):
        records = []
        for seed, policy in ((0, "zero"), (1, "uniform"), (2, "uniform")):
            self.env.reset(seed=seed)
            rng = np.random.default_rng(4000 + seed)
            total, length = 0.0, 0
            while True:
                if policy == "zero":
                    action = np.zeros_like(self.low)
                else:
                    action = self.action(rng)
                _, reward, terminated, truncated = self.step(action)
                total += reward
                length += 1
                if terminated or truncated:
                    break
            description = ("all-zero actions" if policy == "zero" else
                           f"float32 actions uniform in the action box from "
                           f"numpy.random.default_rng({4000 + seed}).uniform(low, high)")
            records.append({"seed": seed, "policy": description, "return": total, "length": length})
        return records

    def document(self):
        runs = self.rollouts()
        resets = self.resets()
        steps = self.steps(runs)
        horizons = self.horizons(runs)
        episodes = self.episodes()
        model = self.base.model
        return {
            "env": self.env_id, "name": self.name,
            "gymnasium": gym.__version__, "mujoco": mujoco.__version__, "numpy": np.__version__,
            "nq": int(model.nq), "nv": int(model.nv), "nu": int(model.nu),
            "frame_skip": int(self.base.frame_skip), "dt": float(self.base.dt),
            "timestep": float(model.opt.timestep),
            "resets": resets, "steps": steps, "horizons": horizons, "episodes": episodes,
        }


def main(argv):
    out = Path(argv[0]) if argv and not argv[0] in ENVIRONMENTS else Path(
        "Tests/EnvironmentsTests/Fixtures/mujoco")
    names = [a for a in argv if a in ENVIRONMENTS] or list(ENVIRONMENTS)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        document = Recorder(name).document()
        path = out / f"{name}.json"
        path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
        steps = document["steps"]
        print(f"wrote {path}: {path.stat().st_size} bytes; {len(steps)} steps "
              f"({sum(s['terminated'] for s in steps)} terminated, "
              f"{sum(s['truncated'] for s in steps)} truncated); horizons terminated "
              f"{[sum(h['terminated']) for h in document['horizons']]}; episodes "
              f"{[(e['length'], round(e['return'], 2)) for e in document['episodes']]}")


if __name__ == "__main__":
    main(sys.argv[1:])
