"""A simulator-side client of the meow learner: the policy client of PROTOCOL.md section 5.13.

The learner owns the policy and the replay buffer; a simulator only steps its environment and
asks for actions. ``connect`` says HELLO as a simulator, then the episode calls map onto rows of
ACTION_REQUEST:

============================  ===================================================================
call                          what goes on the wire
============================  ===================================================================
``start_episode(obs)``        nothing yet; the episode is ``NEW``
``get_action(id, obs)``       one round trip: a ``START`` row (first action of the episode) or a
                              ``STEP`` row carrying the reward of the step logged since the last
                              action, done flags 0, and ``obs`` (the observation after that step)
``log_step(id, r, te, tr, o)``  nothing; the outcome waits for the next row of that episode
``end_episode(id)``           an ``END`` row, queued and sent with the next ACTION_REQUEST (or by
                              ``flush``/``close``), then one EPISODE_STATS for the episodes ended
============================  ===================================================================

Evaluation (PROTOCOL.md section 5.15): a client connected with ``evaluation=True`` asks for the
``EVALUATION`` capability. A learner that grants it tells the client, in its replies, the reset
seeds of the evaluation episodes to run next; ``next_evaluation_seed()`` hands them out, and
``start_episode(obs, seed=s, evaluation=True)`` starts such an episode (reset with ``s``). The
learner acts deterministically in it, stores none of its transitions and sums its rewards itself,
so its ``end_episode`` sends no EPISODE_STATS row.

So a step costs exactly one round trip: the reward and done flags of step ``t`` ride on the
request for the action of step ``t + 1``, as the spec intends ("the rows also report what
happened on the previous step"), and an ended episode's ``END`` row rides on the request that
starts the next one (the spec's auto-reset case). The batch calls ``get_actions``/``log_steps``
put the rows of many episodes into one request.

``END`` rows: after a logged step, the row carries that step's reward, its done flags and its
real next observation (the final observation, also on truncation); an episode ended after a
logged step that was neither terminated nor truncated is sent as truncated (the simulator cut
it short, so the learner bootstraps). An episode ended while an action is outstanding (no
``log_step`` since ``get_action``) sends ``END`` with done flags 0: that action was never carried
out, and the learner builds no transition from it. An episode ended before its first action (a
zero-length episode) sends no row at all, only its EPISODE_STATS row.
"""

from __future__ import annotations

import enum
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Type, TypeVar, Union, overload

import numpy as np
import numpy.typing as npt
import pynng

from . import wire
from ._version import __version__
from .errors import (EpisodeStateError, LearnerRejected, LearnerUnreachable, MeowError, NotWelcome,
                     ProtocolViolation, VersionMismatch, rejection)

CLIENT_VERSION = __version__  # what HELLO says; pyproject.toml and Sources/MEow/MEowVersion.swift agree
_TRY_LATER_ATTEMPTS = 100

#: A Gymnasium ``Box``, a ``wire.Space``, or anything else with ``shape``, ``low`` and ``high``.
SpaceLike = Any

_Reply = TypeVar("_Reply", bound=wire.Message)
# One ACTION_REQUEST row: episode id, observation, previous reward, event, previous done flags.
_Row = Tuple[int, np.ndarray, float, int, int]


# --------------------------------------------------------------------------------------------
# Spaces
# --------------------------------------------------------------------------------------------


def as_space(space: SpaceLike, what: str) -> wire.Space:
    """A ``wire.Space`` from a Gymnasium ``Box`` (or anything with ``shape``, ``low``, ``high``).

    Infinite bounds become ``±FLT_MAX`` (PROTOCOL.md section 4.1) and float64 bounds are rounded
    to float32, clipped so that a huge finite bound does not overflow to infinity.
    """
    if isinstance(space, wire.Space):
        return space
    if not all(hasattr(space, a) for a in ("shape", "low", "high")):
        raise TypeError(f"the {what} space must be a Box (with shape, low, high); got {space!r}. "
                        f"meow speaks Box spaces only: wrap a Discrete or Dict space in a Box first")
    shape = tuple(int(d) for d in space.shape)
    n = int(np.prod(shape)) if shape else 1
    bounds = []
    for name in ("low", "high"):
        b = np.broadcast_to(np.asarray(getattr(space, name), dtype=np.float64), shape).reshape(n)
        if np.isnan(b).any():
            raise ValueError(f"the {what} space's {name} bound holds NaN")
        bounds.append(np.clip(b, -wire.FLT_MAX, wire.FLT_MAX).astype(np.float32))
    return wire.Space(shape, bounds[0], bounds[1])


def _elements(space: wire.Space) -> int:
    return int(np.prod(space.shape)) if space.shape else 1


def rescale_action(action: npt.ArrayLike, space: SpaceLike) -> np.ndarray:
    """Map a normalised action in [-1, 1] onto the bounds of ``space`` (a Box or ``wire.Space``).

    Raises ``ValueError`` for an unbounded dimension: a normalised action has no image there.
    """
    s = as_space(space, "action")
    if (np.abs(s.low) >= wire.FLT_MAX).any() or (np.abs(s.high) >= wire.FLT_MAX).any():
        raise ValueError("the action space has an unbounded dimension; rescaling from [-1, 1] "
                         "needs finite low and high bounds")
    a = np.asarray(action, dtype=np.float64)
    low = s.low.astype(np.float64).reshape(s.shape)
    high = s.high.astype(np.float64).reshape(s.shape)
    return low + (np.clip(a, -1.0, 1.0) + 1.0) * 0.5 * (high - low)


# --------------------------------------------------------------------------------------------
# Episodes
# --------------------------------------------------------------------------------------------


class _Phase(enum.Enum):
    NEW = 0       # started, no action asked for yet
    ACTING = 1    # an action is outstanding: log_step comes next
    LOGGED = 2    # a step was logged: get_action or end_episode comes next


@dataclass
class EpisodeSummary:
    """What ``end_episode`` reports (and sends as one EPISODE_STATS row)."""

    episode_id: int
    seed: Optional[int]
    episode_return: float
    length: int
    seconds: float
    terminated: bool
    truncated: bool
    evaluation: bool = False


class _Episode:
    __slots__ = ("id", "seed", "began", "ret", "length", "phase", "obs", "reward", "flags", "evaluation")

    def __init__(self, episode_id: int, seed: Optional[int], obs: np.ndarray, evaluation: bool = False):
        self.evaluation = evaluation
        self.id = episode_id
        self.seed = seed
        self.began = time.monotonic()
        self.ret = 0.0
        self.length = 0
        self.phase = _Phase.NEW
        self.obs = obs          # the newest observation: reset, or the logged next observation
        self.reward = 0.0       # reward of the logged step
        self.flags = 0          # done flags of the logged step


@dataclass
class ClientStats:
    """Counters since ``connect``; ``round_trip_seconds`` is time spent waiting on the learner."""

    round_trips: int = 0
    round_trip_seconds: float = 0.0
    action_rows: int = 0
    episodes_ended: int = 0


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class Client:
    """One simulator's connection to a learner; see the module docstring for the row mapping.

    Thread-safe (calls are serialised: a REQ socket has one request in flight). Several episodes
    may run at once; ``episode_id`` values are unique per client, their upper 32 bits taken from
    the random ``run_id`` so that ids of two clients differ in practice.
    """

    def __init__(self, url: str, token: Optional[bytes | str], observation_space: SpaceLike,
                 action_space: SpaceLike, *,
                 name: str, env_id: str, timeout: float, tls_ca: Optional[str],
                 tls_server_name: Optional[str], limits: Optional[wire.Limits], evaluation: bool = False):
        if timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout}")
        self.url = url
        self.timeout = float(timeout)
        self.observation_space = as_space(observation_space, "observation")
        self.action_space = as_space(action_space, "action")
        self.obs_dim = _elements(self.observation_space)
        self.action_dim = _elements(self.action_space)
        self.run_id = secrets.randbits(64)
        self.stats = ClientStats()
        self.welcome: Optional[wire.Welcome] = None
        self.policy_version = 0
        self._token = token.encode("utf-8") if isinstance(token, str) else bytes(token or b"")
        self._name = name
        self._env_id = env_id
        self._limits = limits or wire.Limits()
        self._lock = threading.RLock()
        self._request_id = 0
        self._next_episode = (self.run_id & 0xFFFFFFFF00000000) | 1
        self._episodes: Dict[int, _Episode] = {}
        self._end_rows: List[Tuple[int, np.ndarray, float, int]] = []
        self._stats_rows: List[EpisodeSummary] = []
        self._closed = False
        self._wants_evaluation = bool(evaluation)
        self._evaluation_seeds: List[int] = []      # assigned by the learner, not started yet
        self._evaluation_starts: Dict[int, int] = {}  # episode id -> seed, until its START row goes out
        self._reply_extensions: List[Tuple[int, bytes]] = []
        # Set when a round trip was cut off after its request went out: the learner may or may
        # not have applied it, so no further rows can be trusted to line up with its state.
        self._in_doubt = False
        self._sock = pynng.Req0()
        try:
            self._configure_socket(tls_ca, tls_server_name)
            self._hello()
        except BaseException:
            self._sock.close()
            self._closed = True
            raise

    # MARK: connection

    def _configure_socket(self, tls_ca: Optional[str], tls_server_name: Optional[str]) -> None:
        ms = max(1, int(self.timeout * 1000))
        self._sock.recv_timeout = ms
        self._sock.send_timeout = ms
        # nng allocates a claimed message length before reading it (PROTOCOL.md section 1.1): always cap it.
        self._sock.recv_max_size = self._limits.max_frame_bytes + 4
        if self.url.startswith("tls+"):
            if tls_server_name is None and _dials_ip_literal(self.url):
                raise ValueError(
                    f"{self.url} dials an IP address over TLS: pass tls_server_name, the DNS name the learner's "
                    "certificate carries (nng cannot check a certificate against an IP address, so without a "
                    "name it would go unchecked)")
            kw: Dict[str, Any] = {"server_name": tls_server_name}
            if tls_ca:
                kw.update(ca_files=[tls_ca], auth_mode=pynng.TLSConfig.AUTH_MODE_REQUIRED)
            self._sock.tls_config = pynng.TLSConfig(pynng.TLSConfig.MODE_CLIENT, **kw)
        elif tls_ca or tls_server_name:
            raise ValueError(f"tls_ca and tls_server_name need a tls+tcp:// URL, got {self.url}")
        # Non-blocking: a learner that is not up yet is fine; silence becomes LearnerUnreachable.
        self._sock.dial(self.url, block=False)

    def _hello(self) -> None:
        hello = wire.Hello(
            role=wire.Role.SIMULATOR, min_version=(1, 0), max_version=(wire.MAJOR, wire.MINOR),
            capabilities=wire.CAP_VALUE_ESTIMATES | (wire.CAP_EVALUATION if self._wants_evaluation else 0),
            actor_id=0, run_id=self.run_id,
            client_name=self._name, client_version=CLIENT_VERSION, auth_token=self._token,
            env_id=self._env_id, observation_space=self.observation_space,
            action_space=self.action_space)
        reply = self._round_trip(hello)
        if isinstance(reply, wire.Refused):
            raise rejection(reply.code, reply.text, reply=wire.MessageType.REFUSED,
                            retry_after_ms=reply.retry_after_ms,
                            learner_versions=(tuple(reply.min_version), tuple(reply.max_version)))
        if not isinstance(reply, wire.Welcome):
            raise ProtocolViolation(f"learner answered HELLO with {type(reply).__name__}, expected WELCOME")
        if not (1, 0) <= tuple(reply.version) <= (wire.MAJOR, wire.MINOR):
            raise ProtocolViolation(f"WELCOME chose version {reply.version[0]}.{reply.version[1]}, outside "
                                    f"the range 1.0 to {wire.MAJOR}.{wire.MINOR} this client offered")
        self.welcome = reply
        self.policy_version = reply.policy_version
        if reply.max_frame_bytes:
            self._send_limits = wire.Limits(**{**vars(self._limits),
                                               "max_frame_bytes": min(reply.max_frame_bytes,
                                                                      self._limits.max_frame_bytes)})
        else:
            self._send_limits = self._limits

    def _round_trip(self, message: wire.Message, extensions: Sequence[Tuple[int, bytes]] = ()) -> wire.Message:
        """Send one request, return the decoded reply message (ERROR raised, TRY_LATER retried).

        The reply's extension records are kept in ``_reply_extensions``.
        """
        kind = wire.MESSAGE_TYPES[type(message)]
        limits = getattr(self, "_send_limits", self._limits)
        for _ in range(_TRY_LATER_ATTEMPTS):
            self._request_id = (self._request_id + 1) & 0xFFFFFFFF
            data = wire.encode(wire.Frame(message, request_id=self._request_id, extensions=list(extensions)), limits)
            began = time.perf_counter()
            try:
                self._sock.send(data)
                raw = self._sock.recv_msg().bytes
            except pynng.Timeout:
                self._in_doubt = True
                raise LearnerUnreachable(self.url, self.timeout, kind.name) from None
            except BaseException:  # e.g. Ctrl-C while waiting for the reply
                self._in_doubt = True
                raise
            finally:
                self.stats.round_trips += 1
                self.stats.round_trip_seconds += time.perf_counter() - began
            frame = self._decode_reply(raw, kind)
            reply = frame.message
            if not isinstance(reply, wire.Error):
                self._reply_extensions = frame.extensions
                return reply
            if reply.code == wire.ErrorCode.TRY_LATER:
                time.sleep(max(reply.retry_after_ms, 1) / 1000.0)
                continue
            raise rejection(reply.code, reply.text, reply=wire.MessageType.ERROR,
                            retry_after_ms=reply.retry_after_ms, failed_type=reply.failed_type)
        raise LearnerRejected(wire.ErrorCode.TRY_LATER, f"still overloaded after {_TRY_LATER_ATTEMPTS} tries",
                              reply=wire.MessageType.ERROR)

    def _decode_reply(self, raw: bytes, kind: wire.MessageType) -> wire.Frame:
        try:
            frame = wire.decode(raw, self._limits)
        except wire.WireError as e:
            if e.code == wire.ErrorCode.UNSUPPORTED_VERSION and len(raw) >= 6:
                # A learner of another major answers in its own major (PROTOCOL.md section 9).
                raise VersionMismatch(wire.ErrorCode.UNSUPPORTED_VERSION,
                                      f"its reply to {kind.name} is a version {raw[4]}.{raw[5]} frame",
                                      reply=wire.MessageType.ERROR) from None
            raise ProtocolViolation(f"the learner's reply to {kind.name} does not decode: {e}") from e
        if frame.request_id != self._request_id:
            raise ProtocolViolation(f"reply to {kind.name} carries request_id {frame.request_id}, "
                                    f"expected {self._request_id}")
        return frame

    def _call(self, message: wire.Message, expected: Type[_Reply],
              extensions: Sequence[Tuple[int, bytes]] = ()) -> _Reply:
        """A round trip that says HELLO again once if the learner forgot this peer (NOT_WELCOME)."""
        try:
            reply = self._round_trip(message, extensions)
        except NotWelcome:
            self._hello()
            reply = self._round_trip(message, extensions)
        if not isinstance(reply, expected):
            raise ProtocolViolation(f"learner answered {type(reply).__name__}, expected {expected.__name__}")
        return reply

    # MARK: episodes

    def _observation(self, obs: npt.ArrayLike, what: str) -> np.ndarray:
        # A copy: the caller may reuse its array (a vector env's buffer) before the row is sent.
        a = np.array(obs, dtype=np.float32).reshape(-1)
        if a.size != self.obs_dim:
            raise ValueError(f"{what} has {a.size} elements; the observation space "
                             f"{self.observation_space.shape} has {self.obs_dim}")
        return a

    def _episode(self, episode_id: int) -> _Episode:
        ep = self._episodes.get(int(episode_id))
        if ep is None:
            raise EpisodeStateError(f"episode {episode_id} is not running on this client "
                                    f"(never started, or already ended)")
        return ep

    @property
    def evaluation_granted(self) -> bool:
        """Whether the learner schedules evaluation episodes for this client."""
        return bool(self.welcome and self.welcome.capabilities & wire.CAP_EVALUATION)

    def next_evaluation_seed(self) -> Optional[int]:
        """The reset seed of the next evaluation episode the learner asked for, or None. No round trip.

        Start that episode with ``start_episode(obs, seed=seed, evaluation=True)``.
        """
        with self._lock:
            return self._evaluation_seeds.pop(0) if self._evaluation_seeds else None

    def start_episode(self, observation: npt.ArrayLike, seed: Optional[int] = None, evaluation: bool = False) -> int:
        """Begin an episode at its reset observation; returns its id. No round trip.

        ``evaluation``: the episode is the evaluation episode of ``seed`` (from
        ``next_evaluation_seed``), reset with that seed.
        """
        with self._lock:
            self._check_open()
            if seed is not None and not 0 <= int(seed) < wire.NO_SEED:
                raise ValueError(f"seed must be in [0, 2**64 - 1), got {seed}")
            if evaluation and (seed is None or not self.evaluation_granted):
                raise ValueError("an evaluation episode needs the seed the learner assigned "
                                 "(next_evaluation_seed) and a learner that granted EVALUATION")
            eid = self._next_episode
            self._next_episode += 1
            self._episodes[eid] = _Episode(eid, None if seed is None else int(seed),
                                           self._observation(observation, "the reset observation"), evaluation)
            if evaluation and seed is not None:
                self._evaluation_starts[eid] = int(seed)
            return eid

    def get_action(self, episode_id: int, observation: Optional[npt.ArrayLike] = None,
                   deterministic: bool = False) -> np.ndarray:
        """The normalised action in [-1, 1] (shaped like the action space) for one episode.

        ``observation`` defaults to the newest one the client holds (the reset observation, or
        ``next_obs`` of the last ``log_step``); when given it is what the learner sees.
        """
        actions = self.get_actions([episode_id], None if observation is None else [observation], deterministic)
        action: np.ndarray = actions[0]
        return action

    @overload
    def get_actions(self, episode_ids: Sequence[int], observations: Optional[Sequence[npt.ArrayLike]] = None,
                    deterministic: bool = False, *, with_values: Literal[False] = False) -> np.ndarray: ...

    @overload
    def get_actions(self, episode_ids: Sequence[int], observations: Optional[Sequence[npt.ArrayLike]] = None,
                    deterministic: bool = False, *,
                    with_values: Literal[True]) -> Tuple[np.ndarray, np.ndarray]: ...

    @overload
    def get_actions(self, episode_ids: Sequence[int], observations: Optional[Sequence[npt.ArrayLike]] = None,
                    deterministic: bool = False, *,
                    with_values: bool) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]: ...

    def get_actions(self, episode_ids: Sequence[int], observations: Optional[Sequence[npt.ArrayLike]] = None,
                    deterministic: bool = False, *,
                    with_values: bool = False) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
        """Actions for several episodes in one ACTION_REQUEST; ``(n, *action_shape)`` float32.

        With ``with_values`` returns ``(actions, values)``, the learner's V(s) per episode (the
        learner must grant the ``VALUE_ESTIMATES`` capability).
        """
        with self._lock:
            self._check_in_step()
            ids = [int(e) for e in episode_ids]
            if len(set(ids)) != len(ids):
                raise EpisodeStateError("get_actions got the same episode twice in one call")
            if observations is not None and len(observations) != len(ids):
                raise ValueError(f"{len(observations)} observations for {len(ids)} episodes")
            granted = 0 if self.welcome is None else self.welcome.capabilities
            if with_values and not (granted & wire.CAP_VALUE_ESTIMATES):
                raise MeowError("the learner did not grant VALUE_ESTIMATES; it sends no V(s)")
            rows: List[_Row] = []
            for i, eid in enumerate(ids):
                ep = self._episode(eid)
                if ep.phase is _Phase.ACTING:
                    raise EpisodeStateError(f"episode {eid} already has an outstanding action: "
                                            f"call log_step before asking for the next one")
                if ep.phase is _Phase.LOGGED and ep.flags:
                    raise EpisodeStateError(f"episode {eid} ended in its last log_step "
                                            f"({_flag_names(ep.flags)}): call end_episode")
                obs = ep.obs if observations is None else self._observation(observations[i], f"observation {i}")
                event = wire.ActionEvent.START if ep.phase is _Phase.NEW else wire.ActionEvent.STEP
                reward = ep.reward if event == wire.ActionEvent.STEP else 0.0
                rows.append((eid, obs, reward, event, 0))
            if not rows:
                empty = np.zeros((0,) + tuple(self.action_space.shape), np.float32)
                return (empty, np.zeros(0, np.float32)) if with_values else empty
            reply = self._send_rows(rows, deterministic, with_values)
            for eid, obs, *_ in rows:
                ep = self._episodes[eid]
                ep.obs = obs
                ep.phase = _Phase.ACTING
            head = len(reply.actions) - len(rows)
            actions = reply.actions[head:].reshape((len(rows),) + tuple(self.action_space.shape))
            if with_values:
                if reply.values is None:  # _send_rows refuses such a reply; this tells the type checker
                    raise ProtocolViolation("ACTION_REPLY has no values although WANT_VALUES was asked for")
                return actions, reply.values[head:]
            return actions

    def log_step(self, episode_id: int, reward: float, terminated: bool, truncated: bool,
                 next_obs: npt.ArrayLike) -> None:
        """Record the outcome of the episode's outstanding action. No round trip.

        ``next_obs`` is the observation the step returned: on termination or truncation the real
        final observation (Gymnasium 1.x), which the ``END`` row carries.
        """
        self.log_steps([episode_id], [reward], [terminated], [truncated], [next_obs])

    def log_steps(self, episode_ids: Sequence[int], rewards: Sequence[float], terminated: Sequence[bool],
                  truncated: Sequence[bool], next_observations: Sequence[npt.ArrayLike]) -> None:
        """``log_step`` for several episodes at once (vector environments)."""
        with self._lock:
            self._check_open()
            n = len(episode_ids)
            if not (len(rewards) == len(terminated) == len(truncated) == len(next_observations) == n):
                raise ValueError("log_steps needs one reward, terminated, truncated and next_obs per episode")
            staged = []
            for i, eid in enumerate(episode_ids):
                ep = self._episode(eid)
                if ep.phase is not _Phase.ACTING:
                    raise EpisodeStateError(f"episode {eid} has no outstanding action to log: "
                                            f"call get_action first")
                r = float(rewards[i])
                if not np.isfinite(r) or abs(r) > wire.FLT_MAX:
                    raise ValueError(f"reward {r} of episode {eid} is not a finite float32")
                flags = (wire.TERMINATED if terminated[i] else 0) | (wire.TRUNCATED if truncated[i] else 0)
                staged.append((ep, r, flags, self._observation(next_observations[i], f"next_obs {i}")))
            for ep, r, flags, obs in staged:
                ep.reward, ep.flags, ep.obs = r, flags, obs
                ep.ret += r
                ep.length += 1
                ep.phase = _Phase.LOGGED

    def end_episode(self, episode_id: int, *, send_stats: bool = True) -> EpisodeSummary:
        """Finish an episode: queue its ``END`` row and its EPISODE_STATS row; no round trip.

        Both go out with the next ACTION_REQUEST (the row) and right after it (the stats), or on
        ``flush``/``close``. ``send_stats=False`` keeps an episode that was cut short for reasons
        of the run (not of the environment) out of the learning curves.
        """
        with self._lock:
            self._check_open()
            ep = self._episode(episode_id)
            del self._episodes[ep.id]
            terminated = bool(ep.flags & wire.TERMINATED) if ep.phase is _Phase.LOGGED else False
            truncated = ep.phase is _Phase.LOGGED and not terminated
            if ep.phase is _Phase.LOGGED and ep.evaluation and not ep.flags:
                # An evaluation episode cut short: flags 0 give its seed back (PROTOCOL.md 5.15).
                self._end_rows.append((ep.id, ep.obs, 0.0, 0))
            elif ep.phase is _Phase.LOGGED:
                self._end_rows.append((ep.id, ep.obs, ep.reward, ep.flags or wire.TRUNCATED))
            elif ep.phase is _Phase.ACTING:
                # The outstanding action was never carried out: flags 0 tell the learner to drop it.
                self._end_rows.append((ep.id, ep.obs, 0.0, 0))
            summary = EpisodeSummary(ep.id, ep.seed, ep.ret, ep.length, time.monotonic() - ep.began,
                                     terminated, truncated, ep.evaluation)
            self._evaluation_starts.pop(ep.id, None)
            self.stats.episodes_ended += 1
            # The learner sums an evaluation episode's rewards itself: it stays out of EPISODE_STATS.
            if send_stats and not ep.evaluation:
                self._stats_rows.append(summary)
            return summary

    @property
    def running_episodes(self) -> List[int]:
        """Ids of the episodes started and not yet ended."""
        with self._lock:
            return list(self._episodes)

    def flush(self) -> None:
        """Send queued ``END`` rows and episode statistics now."""
        with self._lock:
            self._check_in_step()
            if self._end_rows:
                self._send_rows([], False, False)
            self._send_stats()

    # MARK: frames

    def _send_rows(self, rows: List[_Row], deterministic: bool, with_values: bool) -> wire.ActionReply:
        """One ACTION_REQUEST: the queued END rows first, then ``rows``; then queued stats."""
        ends: List[_Row] = [(eid, obs, r, wire.ActionEvent.END, flags) for eid, obs, r, flags in self._end_rows]
        all_rows = ends + rows
        n = len(all_rows)
        if n > self._limits.max_action_rows:
            raise ValueError(f"{n} rows exceed max_action_rows {self._limits.max_action_rows}; "
                             f"ask for fewer episodes per call")
        request = wire.ActionRequest(
            deterministic=bool(deterministic), want_values=bool(with_values), action_dim=self.action_dim,
            episode_ids=np.fromiter((r[0] for r in all_rows), dtype=np.uint64, count=n),
            observations=np.stack([r[1] for r in all_rows]) if n else np.zeros((0, self.obs_dim), np.float32),
            prev_rewards=np.fromiter((r[2] for r in all_rows), dtype=np.float32, count=n),
            events=np.fromiter((r[3] for r in all_rows), dtype=np.uint8, count=n),
            prev_done_flags=np.fromiter((r[4] for r in all_rows), dtype=np.uint8, count=n))
        # Evaluation episodes whose START row is in this request are named in EVALUATION_STARTS.
        starting = [(r[0], self._evaluation_starts[r[0]]) for r in all_rows
                    if r[3] == wire.ActionEvent.START and r[0] in self._evaluation_starts]
        extensions = ([wire.encode_evaluation_starts([e for e, _ in starting], [s for _, s in starting])]
                      if starting else [])
        reply = self._call(request, wire.ActionReply, extensions)
        for eid, _ in starting:
            del self._evaluation_starts[eid]
        self._take_evaluation_seeds()
        if reply.actions.shape != (n, self.action_dim):
            raise ProtocolViolation(f"ACTION_REPLY holds {reply.actions.shape} actions, "
                                    f"expected {(n, self.action_dim)}")
        if with_values and reply.values is None:
            raise ProtocolViolation("ACTION_REPLY has no values although WANT_VALUES was asked for")
        self._end_rows.clear()
        self.policy_version = reply.policy_version
        self.stats.action_rows += n
        if self._stats_rows:
            self._send_stats()
        return reply

    def _take_evaluation_seeds(self) -> None:
        """Adds the seeds of the reply's EVALUATE record not held yet (every reply repeats them)."""
        try:
            seeds = wire.decode_evaluate(self._reply_extensions, self._limits)
        except wire.WireError as e:
            raise ProtocolViolation(f"the learner's EVALUATE record does not decode: {e}") from e
        if not seeds or not self.evaluation_granted:
            return
        running = {ep.seed for ep in self._episodes.values() if ep.evaluation}
        for seed in seeds:
            if seed not in self._evaluation_seeds and seed not in running:
                self._evaluation_seeds.append(seed)

    def _send_stats(self) -> None:
        while self._stats_rows:
            batch = self._stats_rows[:self._limits.max_episodes_per_message]
            msg = wire.EpisodeStats(
                actor_id=0, run_id=self.run_id,
                episode_ids=np.array([s.episode_id for s in batch], dtype=np.uint64),
                seeds=np.array([wire.NO_SEED if s.seed is None else s.seed for s in batch], dtype=np.uint64),
                returns=np.array([s.episode_return for s in batch], dtype=np.float64),
                seconds=np.array([s.seconds for s in batch], dtype=np.float64),
                lengths=np.array([s.length for s in batch], dtype=np.uint32))
            ack = self._call(msg, wire.Ack)
            if ack.acked_type != wire.MessageType.EPISODE_STATS:
                raise ProtocolViolation(f"EPISODE_STATS acknowledged as {wire.MessageType(ack.acked_type).name}")
            del self._stats_rows[:len(batch)]

    # MARK: closing

    def _check_open(self) -> None:
        if self._closed:
            raise MeowError("this client is closed; connect again")

    def _check_in_step(self) -> None:
        self._check_open()
        if self._in_doubt:
            raise MeowError("an earlier request got no reply, so the learner's view of the episodes is "
                            "unknown: close this client and connect again")

    def close(self, reason: int = wire.GoodbyeReason.DONE, text: str = "") -> None:
        """Flush queued rows and statistics, say GOODBYE, close the socket. Idempotent."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._in_doubt:
                    # GOODBYE alone: the learner frees this peer's episodes, and rows or stats
                    # that may already have been applied are not sent twice.
                    self._end_rows.clear()
                    self._stats_rows.clear()
                else:
                    self.flush()
                ack = self._call(wire.Goodbye(int(reason), text), wire.Ack)
                if ack.acked_type != wire.MessageType.GOODBYE:
                    raise ProtocolViolation(f"GOODBYE acknowledged as {wire.MessageType(ack.acked_type).name}")
            finally:
                self._closed = True
                self._sock.close()

    def abort(self) -> None:
        """Close the socket without a word to the learner (for a learner that stopped answering)."""
        with self._lock:
            self._closed = True
            self._sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if exc_type is None:
            self.close()
            return
        # Already failing: say goodbye if the learner listens, but never mask the first error.
        try:
            reason = wire.GoodbyeReason.SHUTTING_DOWN if exc_type is KeyboardInterrupt else wire.GoodbyeReason.ERROR
            self.close(reason, exc_type.__name__)
        except Exception:
            pass


def _dials_ip_literal(url: str) -> bool:
    """Whether the host of ``url`` (``tls+tcp://10.0.0.5:7700``, ``tls+tcp://[::1]:7700``) is an IP address."""
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    if authority.startswith("["):
        host = authority[1:authority.find("]")] if "]" in authority else authority
    else:
        host = authority.rsplit(":", 1)[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _flag_names(flags: int) -> str:
    names = [n for bit, n in ((wire.TERMINATED, "terminated"), (wire.TRUNCATED, "truncated")) if flags & bit]
    return " and ".join(names) or "not done"


def connect(url: str, token: Optional[bytes | str] = None, *, observation_space: SpaceLike, action_space: SpaceLike,
            name: str = "meow_client", env_id: str = "", timeout: float = 5.0, tls_ca: Optional[str] = None,
            tls_server_name: Optional[str] = None, limits: Optional[wire.Limits] = None,
            evaluation: bool = False) -> Client:
    """Dial ``url``, say HELLO as a simulator and return the welcomed :class:`Client`.

    Raises :class:`~meow_client.errors.LearnerUnreachable` when no reply comes within ``timeout``
    seconds, and a :class:`~meow_client.errors.LearnerRejected` subclass (``SpaceMismatch``,
    ``AuthFailed``, ``VersionMismatch``...) when the learner refuses.

    ``evaluation=True`` asks the learner to schedule evaluation episodes here (see the module
    docstring); the caller must then start them as ``next_evaluation_seed`` says.
    """
    return Client(url, token, observation_space, action_space, name=name, env_id=env_id, timeout=timeout,
                  tls_ca=tls_ca, tls_server_name=tls_server_name, limits=limits, evaluation=evaluation)
