#!/usr/bin/env python3
"""Steps/s of a Gymnasium environment through the simulator bridge, next to its raw step rate.

Measured in one run on this machine:

1. ``raw``: the environment stepped with uniform random actions in a plain loop (``env.step`` and
   resets only) for ``--steps`` steps;
2. ``bridge``: ``python -m meow_client.gym`` against a release ``meow-learner`` whose policy is
   trained (version > 0, so every action is a forward pass of the MEow flow), with the learner
   updating rarely (``--samples-per-insert 1``: one update per 256 inserted transitions) so that
   the figure is the protocol's and the inference's cost, not training's;
3. ``bridge_training``: the same with the preset's one update per step (the learning benchmark's
   setting), where training bounds the rate.

The bridge's ``--report-json`` splits its wall time into protocol (waiting on the learner,
encoding, decoding), environment stepping and the rest.

With ``--actor-envs K`` (the preset must be one of meow's MuJoCo tasks), the same two learner
settings also serve a native ``meow-actor --env PRESET --envs K``, which steps MuJoCo itself and
acts with its own copy of the policy: ``actor`` and ``actor_training``, ratios to the bridge in
the same run.

    python benchmarks/simulator_throughput.py --env Hopper-v4 --preset hopper --steps 5000 --actor-envs 8
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from simbench_support import free_url, report  # beside this script, so on sys.path when it runs

ROOT = Path(__file__).resolve().parents[1]



def raw_rate(env_id: str, steps: int) -> float:
    import gymnasium
    env = gymnasium.make(env_id)
    env.reset(seed=0)
    space = env.action_space
    rng = np.random.default_rng(0)
    actions = rng.uniform(space.low, space.high, size=(steps,) + space.shape).astype(space.dtype)
    began = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - began)


def bridge(env_id: str, url: str, steps: int, seed: int, report: Path, extra: tuple[str, ...] = ()) -> dict:
    subprocess.run([sys.executable, "-m", "meow_client.gym", "--env", env_id, "--connect", url, "--steps", str(steps),
                    "--seed", str(seed), "--quiet", "--timeout", "60", "--report-json", str(report), *extra],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(report.read_text())


def native_actor(binary: Path, preset: str, url: str, envs: int, steps: int, run_dir: Path) -> dict:
    """Steps/s of a native meow-actor after its policy has arrived: the stats file's env steps over its time."""
    stats = run_dir / "actor.json"
    subprocess.run([str(binary), "--env", preset, "--connect", url, "--envs", str(envs), "--max-steps", str(steps),
                    "--actor-id", "7", "--stats-file", str(stats), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, stderr=open(run_dir / "actor.log", "w"))
    counters = json.loads(stats.read_text())
    return {"steps": counters["env_steps"], "envs": envs,
            "steps_per_second": round(counters["env_steps"] / counters["elapsed_seconds"], 1),
            "policy_version": counters["held_version"]}


def with_learner(binary: Path, preset: str, extra, body):
    run_dir = Path(tempfile.mkdtemp(prefix="meow-throughput-"))
    url = free_url()
    proc = subprocess.Popen([str(binary), "--env", preset, "--listen", url, "--run-dir", str(run_dir),
                             "--eval-every", "0", "--quiet", *extra],
                            stdout=open(run_dir / "learner.log", "w"), stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)
        return body(url, run_dir)
    finally:
        proc.terminate()
        proc.wait(10)


def summary(report: dict) -> dict:
    keys = ("steps", "steps_per_second", "protocol_share", "env_share", "round_trips", "policy_version")
    return {k: report[k] for k in keys}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="Hopper-v4")
    p.add_argument("--preset", default="hopper")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    p.add_argument("--json", default=None)
    p.add_argument("--actor-envs", type=int, default=0, help="also time a native meow-actor with K envs")
    p.add_argument("--bridge-envs", type=int, default=0,
                   help="also time the bridge with a vector env of K copies (--num-envs K, sync and async)")
    args = p.parse_args()
    binary = Path(args.bin) / "meow-learner"
    results = {"env": args.env, "raw_steps_per_second": raw_rate(args.env, args.steps)}

    def inference(url, run_dir):
        # Warm-up (uniform actions) until the first update, then the timed run acts with the flow.
        bridge(args.env, url, 1500, 100, run_dir / "warmup.json")
        return summary(bridge(args.env, url, args.steps, 0, run_dir / "bridge.json"))

    results["bridge"] = with_learner(binary, args.preset, ["--learning-starts", "1000", "--samples-per-insert", "1"],
                                     inference)

    def training(url, run_dir):
        bridge(args.env, url, 1500, 100, run_dir / "warmup.json")
        return summary(bridge(args.env, url, min(args.steps, 2000), 0, run_dir / "bridge.json"))

    results["bridge_training"] = with_learner(binary, args.preset, ["--learning-starts", "1000"], training)

    if args.bridge_envs > 0:
        for vector in ("sync", "async"):
            def vectored(url, run_dir, vector=vector):
                bridge(args.env, url, 1500, 100, run_dir / "warmup.json")
                extra = ("--num-envs", str(args.bridge_envs), "--vector", vector, "--no-evaluation")
                return summary(bridge(args.env, url, args.steps, 0, run_dir / "bridge.json", extra))

            mode = f"bridge_{args.bridge_envs}_envs_{vector}"
            results[mode] = with_learner(binary, args.preset, ["--learning-starts", "1000", "--samples-per-insert", "1"],
                                         vectored)
            results[mode]["ratio_to_bridge"] = round(
                results[mode]["steps_per_second"] / results["bridge"]["steps_per_second"], 2)

    if args.actor_envs > 0:
        actor = Path(args.bin) / "meow-actor"

        def native(steps):
            def body(url, run_dir):
                bridge(args.env, url, 1500, 100, run_dir / "warmup.json")  # the same warm-up to a trained policy
                return native_actor(actor, args.preset, url, args.actor_envs, steps, run_dir)
            return body

        results["actor"] = with_learner(binary, args.preset, ["--learning-starts", "1000", "--samples-per-insert", "1"],
                                        native(args.steps))
        results["actor_training"] = with_learner(binary, args.preset, ["--learning-starts", "1000"],
                                                 native(min(args.steps, 2000)))
        for mode, reference in (("actor", "bridge"), ("actor_training", "bridge_training")):
            results[mode]["ratio_to_bridge"] = round(
                results[mode]["steps_per_second"] / results[reference]["steps_per_second"], 2)
    results["raw_steps_per_second"] = round(results["raw_steps_per_second"], 1)
    return report(results, args.json)


if __name__ == "__main__":
    sys.exit(main())
