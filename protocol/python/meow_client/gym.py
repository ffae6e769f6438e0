"""Run a Gymnasium environment as a meow simulator: ``python -m meow_client.gym --env Pendulum-v1``.

The learner (or an actor gateway) chooses every action; this process steps a Gymnasium vector
environment of ``--num-envs`` copies (``SyncVectorEnv``, or ``AsyncVectorEnv`` with one process per
copy for ``--vector async``) and reports what happened. All copies share one ACTION_REQUEST per
step, so a step of K environments costs one round trip.

Autoreset. A copy whose episode ends is reset right after the step that ended it, so the next
request carries the ``END`` row of the finished episode (its real final observation, last reward
and done flags) together with the ``START`` row of the new one (PROTOCOL.md section 5.13). Of
Gymnasium's autoreset modes, ``NEXT_STEP`` (the default) would spend the following step on the
reset and return a reward of 0 for it, a transition that never happened; ``SAME_STEP`` resets
inside the step (the final observation moves to ``info["final_obs"]``) but without a seed. The
bridge therefore runs the vector env with autoreset ``DISABLED`` and resets the finished copies
itself, in the same iteration, with ``reset_mask`` and each new episode's own seed.

Actions arrive normalised to [-1, 1] and are rescaled to the environment's bounds. Episode ``i``
(counted over all copies, from 0) is reset with seed ``--seed + i``, and that seed travels in
EPISODE_STATS. A copy with no episode to run (the ``--episodes`` budget is spent) is stepped with
the zero action and its outcome is not reported; when ``--steps`` leaves fewer steps than running
episodes, the surplus end (truncated, kept out of the curves) before the step.

Evaluation (PROTOCOL.md section 5.15). Unless ``--deterministic`` or ``--no-evaluation``, the
bridge also runs the learner's evaluation episodes: when the learner names seeds, the next copies
to reset are reset with them, the learner acts deterministically there, and those episodes count
toward neither ``--steps`` nor ``--episodes`` (the report has ``evaluation_steps`` and
``evaluation_episodes``). No separate evaluation process is needed. Ctrl-C ends the
run: queued rows and statistics are flushed, GOODBYE is sent, the timing report printed, and the
exit status is 130.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, TextIO

import numpy as np

from .client import Client, EpisodeSummary, as_space, connect, rescale_action
from .errors import MeowError
from .wire import GoodbyeReason


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
    evaluation_episodes: List[Dict[str, Any]] = field(default_factory=list)  # {"seed", "return", "length"}

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

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began = 0.0

    def __enter__(self) -> None:
        self._began = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._began


def _check_spaces(env_id: str, observation_space: Any, action_space: Any) -> None:
    from gymnasium import spaces

    for what, space in (("observation", observation_space), ("action", action_space)):
        if not isinstance(space, spaces.Box):
            raise UnsupportedEnvironment(
                f"{env_id} has a {type(space).__name__} {what} space; meow speaks Box spaces only "
                f"(wrap the environment so that it has Box observations and actions)")
    if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise UnsupportedEnvironment(f"{env_id}'s action space is unbounded; rescaling from [-1, 1] needs "
                                     f"finite bounds (wrap it with gymnasium.wrappers.ClipAction first)")


def make_vector_env(env_id: str, num_envs: int, vectorization: str = "sync") -> Any:
    """``num_envs`` copies of ``env_id`` as a Gymnasium vector env that never resets a copy by itself."""
    import gymnasium
    from gymnasium.vector import AutoresetMode

    try:
        return gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode=vectorization,
                                  vector_kwargs={"autoreset_mode": AutoresetMode.DISABLED})
    except gymnasium.error.Error as e:
        raise UnsupportedEnvironment(f"cannot make {env_id!r}: {e}") from None


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> Report:
    """Run the bridge as the parsed command line says; returns the timing report."""
    report = Report(args.env, args.num_envs)
    protocol, env_time = _Clock(), _Clock()
    began = time.perf_counter()
    envs = make_vector_env(args.env, args.num_envs, args.vector)
    client: Optional[Client] = None
    try:
        _check_spaces(args.env, envs.single_observation_space, envs.single_action_space)
        with protocol:
            client = connect(args.connect, args.token, observation_space=envs.single_observation_space,
                             action_space=envs.single_action_space, name="meow_client.gym", env_id=args.env,
                             timeout=args.timeout, tls_ca=args.tls_ca, tls_server_name=args.tls_server_name,
                             evaluation=not (args.deterministic or args.no_evaluation))
        _run_episodes(args, envs, client, report, protocol, env_time, out)
        with protocol:
            client.close(reason=GoodbyeReason.SHUTTING_DOWN if report.interrupted else GoodbyeReason.DONE)
    except KeyboardInterrupt:
        report.interrupted = True
        if client is not None:
            client.close(reason=GoodbyeReason.SHUTTING_DOWN)
    except BaseException:
        if client is not None:
            client.abort()
        raise
    finally:
        envs.close()
        if client is not None:
            report.round_trips = client.stats.round_trips
            report.round_trip_seconds = client.stats.round_trip_seconds
            report.policy_version = client.policy_version
        report.protocol_seconds, report.env_seconds = protocol.seconds, env_time.seconds
        report.finish(time.perf_counter() - began)
    return report


def _run_episodes(args: argparse.Namespace, envs: Any, client: Client, report: Report, protocol: _Clock,
                  env_time: _Clock, out: TextIO) -> None:
    """Step ``envs`` until the budget is spent (or Ctrl-C), one ACTION_REQUEST per vector step."""
    k = args.num_envs
    action_space = envs.single_action_space
    bounds = as_space(action_space, "action")  # converted once, not per step
    episode_ids: List[Optional[int]] = [None] * k  # the learner's episode running in each copy
    evaluating = [False] * k  # the copy runs one of the learner's evaluation episodes
    started = 0

    def may_start() -> bool:
        if args.episodes is not None:
            return bool(started < args.episodes)
        return bool(report.steps < args.steps)

    def begin(slot: int, observation: np.ndarray, seed: int, evaluation: bool = False) -> None:
        with protocol:
            episode_ids[slot] = client.start_episode(observation, seed=seed, evaluation=evaluation)
        evaluating[slot] = evaluation

    with env_time:
        observations, _ = envs.reset(seed=args.seed)  # copy j with seed + j
    for slot in range(k):
        if may_start():
            begin(slot, observations[slot], args.seed + started)
            started += 1
    try:
        while True:
            if args.steps is not None:
                # The budget leaves fewer steps than running episodes: the surplus end here,
                # truncated and out of the curves, before a step the learner would not hear of.
                running = [s for s in range(k) if episode_ids[s] is not None and not evaluating[s]]
                for s in running[max(0, args.steps - report.steps):]:
                    _end(client, episode_ids, s, protocol, send_stats=False)
            active = [s for s in range(k) if episode_ids[s] is not None]
            if not active:
                break
            ids = [_running(episode_ids, s) for s in active]
            with protocol:
                actions = client.get_actions(ids, [observations[s] for s in active], args.deterministic)
            normalised = np.zeros((k, *action_space.shape), np.float32)
            normalised[active] = actions.reshape((len(active), *action_space.shape))
            env_actions = rescale_action(normalised, bounds).astype(action_space.dtype)
            with env_time:
                observations, rewards, terminated, truncated, info = envs.step(env_actions)
            evaluation_rows = sum(evaluating[s] for s in active)
            report.steps += len(active) - evaluation_rows
            report.evaluation_steps += evaluation_rows
            with protocol:
                client.log_steps(ids, [float(rewards[s]) for s in active], [bool(terminated[s]) for s in active],
                                 [bool(truncated[s]) for s in active], [observations[s] for s in active])
            done = np.logical_or(terminated, truncated)
            # Every finished copy is reset now (an idle one too: a vector env without autoreset
            # refuses to step a copy whose episode is over); those that start an episode get its seed.
            seeds: List[Optional[int]] = [None] * k
            evaluation_seeds: List[bool] = [False] * k
            for s in range(k):
                if not done[s]:
                    continue
                if episode_ids[s] is not None and evaluating[s]:
                    summary = _end(client, episode_ids, s, protocol, send_stats=False)
                    report.evaluation_episodes.append({"seed": summary.seed, "return": summary.episode_return,
                                                       "length": summary.length})
                    if not args.quiet:
                        print(f"evaluation episode (seed {summary.seed}): return {summary.episode_return:.2f}, "
                              f"length {summary.length}, policy version {client.policy_version}",
                              file=out, flush=True)
                elif episode_ids[s] is not None:
                    summary = _end(client, episode_ids, s, protocol, send_stats=True)
                    report.episodes += 1
                    report.returns.append(summary.episode_return)
                    if not args.quiet:
                        ending = "terminated" if summary.terminated else "truncated"
                        print(f"episode {report.episodes}: return {summary.episode_return:.2f}, length "
                              f"{summary.length}, seed {summary.seed}, {ending}; {report.steps} steps, "
                              f"policy version {client.policy_version}", file=out, flush=True)
                evaluation_seed = client.next_evaluation_seed()
                if evaluation_seed is not None:
                    seeds[s], evaluation_seeds[s] = evaluation_seed, True
                elif may_start():
                    seeds[s] = args.seed + started
                    started += 1
            if done.any():
                with env_time:
                    reset_observations, _ = envs.reset(seed=seeds, options={"reset_mask": done})
                observations = np.where(done.reshape((k,) + (1,) * (observations.ndim - 1)),
                                        reset_observations, observations)
                for slot, seed in enumerate(seeds):
                    if seed is not None:
                        begin(slot, observations[slot], seed, evaluation_seeds[slot])
    except KeyboardInterrupt:
        report.interrupted = True
    # Episodes cut short by the step budget or Ctrl-C end truncated, kept out of the curves.
    for s in range(k):
        if episode_ids[s] is not None:
            _end(client, episode_ids, s, protocol, send_stats=False)


def _running(episode_ids: List[Optional[int]], slot: int) -> int:
    eid = episode_ids[slot]
    if eid is None:
        raise AssertionError(f"copy {slot} runs no episode")
    return eid


def _end(client: Client, episode_ids: List[Optional[int]], slot: int, protocol: _Clock, *,
         send_stats: bool) -> EpisodeSummary:
    with protocol:
        summary = client.end_episode(_running(episode_ids, slot), send_stats=send_stats)
    episode_ids[slot] = None
    return summary


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m meow_client.gym",
                                description="Run a Gymnasium environment as a simulator of a meow learner.")
    p.add_argument("--env", required=True, help="Gymnasium id with Box spaces, e.g. Hopper-v4")
    p.add_argument("--connect", required=True, help="learner URL, e.g. tcp://127.0.0.1:7700")
    p.add_argument("--token", default=None, help="the learner's auth token")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--episodes", type=int, default=None, help="episodes to run (default 10)")
    budget.add_argument("--steps", type=int, default=None, help="environment steps to run instead")
    p.add_argument("--seed", type=int, default=0, help="copy j is first reset with seed + j (default 0)")
    p.add_argument("--num-envs", type=int, default=1, help="environments stepped together (default 1)")
    p.add_argument("--vector", choices=("sync", "async"), default="sync",
                   help="step the copies in this process (sync, default) or one process each (async)")
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


def main(argv: Optional[Sequence[str]] = None) -> int:
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
