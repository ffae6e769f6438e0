"""Run a Gymnasium environment as a meow simulator: ``python -m meow_client.gym --env Pendulum-v1``.

The learner (or an actor gateway) chooses every action; this process only steps ``--num-envs``
independent copies of the environment and reports what happened. All copies share one
ACTION_REQUEST per step (one row each, plus the ``END`` rows of episodes that just finished), so
a step of K environments costs one round trip.

Why K separate environments rather than a Gymnasium vector env: a vector env auto-resets, and
with its default "next step" mode the step after an episode ends returns the reset observation
with a meaningless reward, which would have to be filtered out again. Stepping K plain
environments gives each episode its real final observation (for truncation too) and lets a new
episode start in the same request that ends the old one, exactly as PROTOCOL.md section 5.13
describes.

Actions arrive normalised to [-1, 1] and are rescaled to the environment's bounds. Episode ``i``
(counted over all copies, from 0) is reset with seed ``--seed + i``, and that seed travels in
EPISODE_STATS. Unless ``--deterministic`` or ``--no-evaluation``, the bridge also runs the
learner's evaluation episodes (PROTOCOL.md section 5.15): when the learner names a seed, the next
episode to start in any copy is reset with it and acted deterministically, and it counts toward
neither ``--steps`` nor ``--episodes``. Ctrl-C ends the run: queued rows and statistics are flushed, GOODBYE is sent, the
timing report printed, and the exit status is 130.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import List, Optional

import numpy as np

from .client import as_space, connect, rescale_action
from .errors import MeowError


class UnsupportedEnvironment(MeowError):
    """The environment's spaces are not what meow speaks (finite-bounded Box actions, Box observations)."""


@dataclass
class Report:
    """Where the wall time went; written by ``--report-json``."""

    env_id: str
    num_envs: int
    steps: int = 0
    episodes: int = 0
    interrupted: bool = False
    wall_seconds: float = 0.0
    protocol_seconds: float = 0.0
    env_seconds: float = 0.0
    other_seconds: float = 0.0
    protocol_share: float = 0.0
    env_share: float = 0.0
    steps_per_second: float = 0.0
    round_trips: int = 0
    round_trip_seconds: float = 0.0
    policy_version: int = 0
    mean_return: Optional[float] = None
    returns: List[float] = field(default_factory=list)
    evaluation_steps: int = 0
    evaluation_episodes: List[dict] = field(default_factory=list)  # {"seed", "return", "length"}

    def finish(self, wall: float) -> None:
        self.wall_seconds = wall
        self.other_seconds = max(0.0, wall - self.protocol_seconds - self.env_seconds)
        if wall > 0:
            self.protocol_share = self.protocol_seconds / wall
            self.env_share = self.env_seconds / wall
            self.steps_per_second = self.steps / wall
        if self.returns:
            self.mean_return = float(np.mean(self.returns))

    def summary(self) -> str:
        return (f"{self.steps} steps, {self.episodes} episodes in {self.wall_seconds:.2f} s "
                f"({self.steps_per_second:.0f} steps/s); protocol {100 * self.protocol_share:.1f}% "
                f"({self.protocol_seconds:.2f} s, {self.round_trips} round trips), env {100 * self.env_share:.1f}% "
                f"({self.env_seconds:.2f} s), other {self.other_seconds:.2f} s")


class _Clock:
    """Accumulates the seconds spent inside ``with`` blocks."""

    def __init__(self):
        self.seconds = 0.0

    def __enter__(self):
        self._began = time.perf_counter()

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._began


def _check_spaces(env_id: str, env) -> None:
    from gymnasium import spaces

    for what, space in (("observation", env.observation_space), ("action", env.action_space)):
        if not isinstance(space, spaces.Box):
            raise UnsupportedEnvironment(
                f"{env_id} has a {type(space).__name__} {what} space; meow speaks Box spaces only "
                f"(wrap the environment so that it has Box observations and actions)")
    if not (np.all(np.isfinite(env.action_space.low)) and np.all(np.isfinite(env.action_space.high))):
        raise UnsupportedEnvironment(f"{env_id}'s action space is unbounded; rescaling from [-1, 1] needs "
                                     f"finite bounds (wrap it with gymnasium.wrappers.ClipAction first)")


def run(args: argparse.Namespace, out=sys.stdout) -> Report:
    """Run the bridge as the parsed command line says; returns the timing report."""
    import gymnasium

    report = Report(args.env, args.num_envs)
    protocol, env_time = _Clock(), _Clock()
    began = time.perf_counter()
    try:
        envs = [gymnasium.make(args.env) for _ in range(args.num_envs)]
    except gymnasium.error.Error as e:
        raise UnsupportedEnvironment(f"cannot make {args.env!r}: {e}") from None
    client = None
    try:
        _check_spaces(args.env, envs[0])
        with protocol:
            client = connect(args.connect, args.token, observation_space=envs[0].observation_space,
                             action_space=envs[0].action_space, name="meow_client.gym", env_id=args.env,
                             timeout=args.timeout, tls_ca=args.tls_ca, tls_server_name=args.tls_server_name,
                             evaluation=not (args.deterministic or args.no_evaluation))
        action_space = envs[0].action_space
        bounds = as_space(action_space, "action")  # converted once, not per step
        k = args.num_envs
        episode_ids: List[Optional[int]] = [None] * k
        observations: List[Optional[np.ndarray]] = [None] * k
        evaluating: List[bool] = [False] * k
        started = 0

        def may_start() -> bool:
            if args.episodes is not None:
                return started < args.episodes
            return report.steps < args.steps

        def begin(slot: int) -> bool:
            """Start the learner's next evaluation episode in ``slot``, else a training one if the budget allows."""
            nonlocal started
            evaluation_seed = client.next_evaluation_seed()
            if evaluation_seed is None and not may_start():
                return False
            if evaluation_seed is None:
                seed = None if args.seed is None else args.seed + started
                started += 1
            else:
                seed = evaluation_seed
            with env_time:
                obs, _ = envs[slot].reset(seed=seed)
            with protocol:
                episode_ids[slot] = client.start_episode(obs, seed=seed, evaluation=evaluation_seed is not None)
            observations[slot] = obs
            evaluating[slot] = evaluation_seed is not None
            return True

        for slot in range(k):
            begin(slot)
        try:
            while True:
                for s in range(k):
                    if episode_ids[s] is None:
                        begin(s)  # an idle copy takes an evaluation seed that arrived meanwhile
                active = [s for s in range(k) if episode_ids[s] is not None and not evaluating[s]]
                if args.steps is not None:
                    active = active[:max(0, args.steps - report.steps)]
                active += [s for s in range(k) if episode_ids[s] is not None and evaluating[s]]
                if not active:
                    break
                with protocol:
                    actions = client.get_actions([episode_ids[s] for s in active],
                                                 [observations[s] for s in active], args.deterministic)
                results = []
                for j, s in enumerate(active):
                    env_action = rescale_action(actions[j], bounds).astype(action_space.dtype)
                    with env_time:
                        results.append(envs[s].step(env_action))
                evaluation_rows = sum(evaluating[s] for s in active)
                report.steps += len(active) - evaluation_rows
                report.evaluation_steps += evaluation_rows
                with protocol:
                    client.log_steps([episode_ids[s] for s in active], [r[1] for r in results],
                                     [r[2] for r in results], [r[3] for r in results], [r[0] for r in results])
                for s, (obs, _reward, terminated, truncated, _info) in zip(active, results):
                    observations[s] = obs
                    if not (terminated or truncated):
                        continue
                    with protocol:
                        summary = client.end_episode(episode_ids[s])
                    episode_ids[s] = None
                    if summary.evaluation:
                        evaluating[s] = False
                        report.evaluation_episodes.append({"seed": summary.seed, "return": summary.episode_return,
                                                           "length": summary.length})
                        if not args.quiet:
                            print(f"evaluation episode (seed {summary.seed}): return {summary.episode_return:.2f}, "
                                  f"length {summary.length}, policy version {client.policy_version}",
                                  file=out, flush=True)
                        begin(s)
                        continue
                    report.episodes += 1
                    report.returns.append(summary.episode_return)
                    if not args.quiet:
                        print(f"episode {report.episodes}: return {summary.episode_return:.2f}, length "
                              f"{summary.length}, seed {summary.seed}, {'terminated' if summary.terminated else 'truncated'}; "
                              f"{report.steps} steps, policy version {client.policy_version}", file=out, flush=True)
                    begin(s)
                if args.steps is not None and report.steps >= args.steps and not any(evaluating):
                    break
        except KeyboardInterrupt:
            report.interrupted = True
        # Episodes cut short by the step budget or Ctrl-C end truncated, kept out of the curves.
        with protocol:
            for s in range(k):
                if episode_ids[s] is not None:
                    client.end_episode(episode_ids[s], send_stats=False)
                    episode_ids[s] = None
            client.close(reason=1 if report.interrupted else 0)
    except KeyboardInterrupt:
        report.interrupted = True
        if client is not None:
            client.close(reason=1)
    except BaseException:
        if client is not None:
            client.abort()
        raise
    finally:
        for env in envs:
            env.close()
        if client is not None:
            report.round_trips = client.stats.round_trips
            report.round_trip_seconds = client.stats.round_trip_seconds
            report.policy_version = client.policy_version
        report.protocol_seconds, report.env_seconds = protocol.seconds, env_time.seconds
        report.finish(time.perf_counter() - began)
    return report


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m meow_client.gym",
                                description="Run a Gymnasium environment as a simulator of a meow learner.")
    p.add_argument("--env", required=True, help="Gymnasium id with Box spaces, e.g. Hopper-v4")
    p.add_argument("--connect", required=True, help="learner URL, e.g. tcp://127.0.0.1:7700")
    p.add_argument("--token", default=None, help="the learner's auth token")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--episodes", type=int, default=None, help="episodes to run (default 10)")
    budget.add_argument("--steps", type=int, default=None, help="environment steps to run instead")
    p.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i (default 0)")
    p.add_argument("--num-envs", type=int, default=1, help="environments stepped together (default 1)")
    p.add_argument("--deterministic", action="store_true", help="ask for the policy's mean action (evaluation)")
    p.add_argument("--no-evaluation", action="store_true",
                   help="do not run the evaluation episodes the learner schedules (they run by default)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each reply (default 5)")
    p.add_argument("--tls-ca", default=None, help="CA certificate (PEM) for a tls+tcp:// URL")
    p.add_argument("--tls-server-name", default=None, help="name to verify in the learner's certificate")
    p.add_argument("--report-json", default=None, help="write the timing report here as JSON")
    p.add_argument("--quiet", action="store_true", help="no line per episode")
    args = p.parse_args(argv)
    if args.episodes is None and args.steps is None:
        args.episodes = 10
    for name in ("episodes", "steps", "num_envs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.seed < 0:
        p.error(f"--seed must be non-negative, got {args.seed}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = run(args)
    except MeowError as e:
        print(f"meow_client.gym: {e}", file=sys.stderr)
        return 1
    print(report.summary(), flush=True)
    if args.report_json:
        with open(args.report_json, "w") as f:
            json.dump(asdict(report), f, indent=2)
    return 130 if report.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
