"""A small learner stand-in for the simulator tests: a pynng REP server speaking the protocol.

It answers HELLO (checking token, spaces and version range as a learner would), ACTION_REQUEST
(deterministic actions), EPISODE_STATS and GOODBYE, and it builds transitions from the rows
exactly as PROTOCOL.md section 5.13 describes, so the tests can check what a learner would
store. Every row that breaks the row rules is recorded in ``violations`` rather than raised:
a test asserts that list is empty.

Row rules checked here (the ones the Swift endpoint must apply too):

- ``START``: the episode must not be running; the learner remembers (observation, action).
- ``STEP``: the episode must be running and ``prev_done_flags`` must be 0; the learner stores
  the transition (previous observation, previous action, ``prev_reward``, this observation,
  0) and remembers (this observation, the new action).
- ``END``: the episode must be running; with ``prev_done_flags`` != 0 the learner stores the
  final transition with those flags, with flags 0 it drops the outstanding action (no
  transition); then it forgets the episode. Its reply row is zeros.
- One request names each episode at most once.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pynng

from meow_client import wire


def free_tcp_url() -> str:
    """A loopback URL on a port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def default_policy(obs: np.ndarray, action_dim: int, deterministic: bool) -> np.ndarray:
    """A fixed smooth function of the observation, inside [-1, 1]."""
    base = np.tanh(0.5 * float(np.sum(obs)))
    return np.clip(base + 0.1 * np.arange(action_dim) * (1 if deterministic else -1), -1, 1).astype(np.float32)


@dataclass
class Transition:
    episode_id: int
    observation: np.ndarray
    action: np.ndarray
    reward: float
    next_observation: np.ndarray
    done_flags: int


class FakeLearner:
    """Serve one REP socket on a thread; use as a context manager."""

    def __init__(self, url: Optional[str] = None, *, observation_space: Optional[wire.Space] = None,
                 action_space: Optional[wire.Space] = None, token: bytes = b"",
                 versions: Tuple[Tuple[int, int], Tuple[int, int]] = ((1, 0), (1, 0)),
                 reply_major: int = wire.MAJOR,
                 policy: Callable[[np.ndarray, int, bool], np.ndarray] = default_policy,
                 grant_values: bool = True, tls: Optional[Tuple[str, str]] = None):
        self.url = url or free_tcp_url()
        self.observation_space = observation_space
        self.action_space = action_space
        self.token = token
        self.versions = versions
        self.reply_major = reply_major
        self.policy = policy
        self.grant_values = grant_values
        self.policy_version = 7
        self.stall_actions = False
        # What the learner saw; appended on the server thread before each reply is sent.
        self.frames: List[wire.Frame] = []
        self.decode_errors: List[wire.WireError] = []
        self.violations: List[str] = []
        self.transitions: List[Transition] = []
        self.dropped_actions: List[int] = []
        self.started: List[int] = []
        self.ended: List[int] = []
        self.stats_rows: List[dict] = []
        self.hellos: List[wire.Hello] = []
        self.goodbyes: List[wire.Goodbye] = []
        self.replied_actions: Dict[int, List[np.ndarray]] = {}
        self._welcomed: Dict[int, wire.Hello] = {}
        self._live: Dict[Tuple[int, int], Tuple[np.ndarray, np.ndarray]] = {}
        self._stop = threading.Event()
        self._sock = pynng.Rep0(recv_timeout=50, recv_max_size=wire.Limits().max_frame_bytes + 4)
        if tls is not None:  # (certificate PEM, private key PEM)
            self._sock.tls_config = pynng.TLSConfig(pynng.TLSConfig.MODE_SERVER, own_cert_string=tls[0],
                                                    own_key_string=tls[1])
        self._sock.listen(self.url)
        self._thread = threading.Thread(target=self._serve, name="fake-learner", daemon=True)

    # MARK: lifecycle

    def __enter__(self) -> "FakeLearner":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._sock.close()

    def forget_peers(self) -> None:
        """Act like a restarted learner: every peer must say HELLO again."""
        self._welcomed.clear()
        self._live.clear()

    def messages(self, kind: type) -> list:
        return [f.message for f in self.frames if isinstance(f.message, kind)]

    # MARK: serving

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._sock.recv_msg()
            except pynng.Timeout:
                continue
            except pynng.Closed:
                return
            peer = msg.pipe.id if msg.pipe is not None else 0
            try:
                frame = wire.decode(msg.bytes)
            except wire.WireError as e:
                self.decode_errors.append(e)
                self._send(wire.Frame(wire.Error(e.code, 0, 0, str(e))))
                continue
            self.frames.append(frame)
            if self.stall_actions and isinstance(frame.message, wire.ActionRequest):
                continue  # never answered: the client's REQ gives up after its timeout
            try:
                reply = self._answer(peer, frame.message)
            except Exception as e:  # a bug here must show up in the test, not hang the client
                self.violations.append(f"fake learner failed: {e!r}")
                reply = wire.Error(wire.ErrorCode.INTERNAL, frame.type, 0, repr(e))
            self._send(wire.Frame(reply, request_id=frame.request_id))

    def _send(self, frame: wire.Frame) -> None:
        data = bytearray(wire.encode(frame))
        if self.reply_major != wire.MAJOR:
            data[4] = self.reply_major
            data[20:24] = (zlib.crc32(bytes(data[24:]), zlib.crc32(bytes(data[:20])))).to_bytes(4, "little")
        try:
            self._sock.send(bytes(data))
        except pynng.Closed:
            pass

    def _answer(self, peer: int, m):
        if self.reply_major != wire.MAJOR:
            return wire.Error(wire.ErrorCode.UNSUPPORTED_VERSION, 0, 0,
                              f"this learner speaks major {self.reply_major}")
        if isinstance(m, wire.Hello):
            return self._hello(peer, m)
        hello = self._welcomed.get(peer)
        if hello is None:
            return wire.Error(wire.ErrorCode.NOT_WELCOME, wire.MESSAGE_TYPES[type(m)], 0, "say HELLO first")
        if isinstance(m, wire.ActionRequest):
            return self._act(peer, hello, m)
        if isinstance(m, wire.EpisodeStats):
            for i in range(len(m.episode_ids)):
                self.stats_rows.append(dict(episode_id=int(m.episode_ids[i]), seed=int(m.seeds[i]),
                                            episode_return=float(m.returns[i]), seconds=float(m.seconds[i]),
                                            length=int(m.lengths[i]), run_id=m.run_id))
            return wire.Ack(wire.MessageType.EPISODE_STATS)
        if isinstance(m, wire.Goodbye):
            self.goodbyes.append(m)
            del self._welcomed[peer]
            return wire.Ack(wire.MessageType.GOODBYE)
        return wire.Error(wire.ErrorCode.UNEXPECTED_MESSAGE, wire.MESSAGE_TYPES[type(m)], 0, "not served here")

    def _hello(self, peer: int, h: wire.Hello):
        self.hellos.append(h)
        lo, hi = self.versions

        def refuse(code, text):
            return wire.Refused(code, 0, lo, hi, text)

        best = min(tuple(h.max_version), hi)
        if best < max(tuple(h.min_version), lo):
            return refuse(wire.ErrorCode.UNSUPPORTED_VERSION, "no protocol version in common")
        if self.token and h.auth_token != self.token:
            return refuse(wire.ErrorCode.AUTH_FAILED, "the auth token does not match")
        if h.role != wire.Role.SIMULATOR:
            return refuse(wire.ErrorCode.UNEXPECTED_MESSAGE, "this fake learner serves simulators only")
        for what, mine, theirs in (("observation", self.observation_space, h.observation_space),
                                   ("action", self.action_space, h.action_space)):
            if mine is None:
                continue
            if tuple(mine.shape) != tuple(theirs.shape):
                return refuse(wire.ErrorCode.SPACE_MISMATCH,
                              f"the {what} space has shape {tuple(theirs.shape)}, the learner's {tuple(mine.shape)}")
            if not (np.array_equal(mine.low, theirs.low) and np.array_equal(mine.high, theirs.high)):
                return refuse(wire.ErrorCode.SPACE_MISMATCH, f"the {what} space's bounds differ from the learner's")
        self._welcomed[peer] = h
        caps = h.capabilities & (wire.CAP_VALUE_ESTIMATES if self.grant_values else 0)
        return wire.Welcome(best, caps, 0xC0FFEE, self.policy_version, 1000, 256, 8192, 100, 1 << 20,
                            1000, 1000, wire.Limits().max_frame_bytes, h.env_id, "fake")

    def _act(self, peer: int, hello: wire.Hello, m: wire.ActionRequest):
        n = len(m.episode_ids)
        d_o = int(np.prod(hello.observation_space.shape)) if hello.observation_space.shape else 1
        d_a = int(np.prod(hello.action_space.shape)) if hello.action_space.shape else 1
        if m.observations.shape[1] != d_o or m.action_dim != d_a:
            return wire.Error(wire.ErrorCode.SPACE_MISMATCH, wire.MessageType.ACTION_REQUEST, 0,
                              f"rows have obs_dim {m.observations.shape[1]} and action_dim {m.action_dim}, "
                              f"HELLO said {d_o} and {d_a}")
        if len(set(m.episode_ids.tolist())) != n:
            self.violations.append(f"one request names an episode twice: {m.episode_ids.tolist()}")
        self.policy_version += 1
        actions = np.zeros((n, d_a), np.float32)
        for i in range(n):
            eid, obs, event = int(m.episode_ids[i]), m.observations[i], int(m.events[i])
            reward, flags = float(m.prev_rewards[i]), int(m.prev_done_flags[i])
            key = (peer, eid)
            if event != wire.ActionEvent.END:
                actions[i] = self.policy(obs, d_a, m.deterministic)
                self.replied_actions.setdefault(eid, []).append(actions[i].copy())
            if event == wire.ActionEvent.START:
                if key in self._live:
                    self.violations.append(f"START for running episode {eid}")
                self.started.append(eid)
                self._live[key] = (obs, actions[i])
            elif event == wire.ActionEvent.STEP:
                prev = self._live.get(key)
                if prev is None:
                    self.violations.append(f"STEP for unknown episode {eid}")
                elif flags:
                    self.violations.append(f"STEP row of episode {eid} carries done flags {flags}")
                else:
                    self.transitions.append(Transition(eid, prev[0], prev[1], reward, obs, 0))
                self._live[key] = (obs, actions[i])
            else:
                prev = self._live.pop(key, None)
                if prev is None:
                    self.violations.append(f"END for unknown episode {eid}")
                elif flags:
                    self.transitions.append(Transition(eid, prev[0], prev[1], reward, obs, flags))
                else:
                    self.dropped_actions.append(eid)
                self.ended.append(eid)
        values = None
        if m.want_values:
            if not self.grant_values:
                return wire.Error(wire.ErrorCode.INVALID_VALUE, wire.MessageType.ACTION_REQUEST, 0,
                                  "WANT_VALUES without the VALUE_ESTIMATES capability")
            values = m.observations.sum(axis=1).astype(np.float32)
        return wire.ActionReply(self.policy_version, actions, values)

    def running(self) -> int:
        """Episodes the learner holds state for."""
        return len(self._live)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()


def main(argv=None) -> None:
    """Serve until SIGTERM or Ctrl-C, with a meow-learner-like command line (for manual runs and
    for trying tests/test_real_learner.py's plumbing: MEOW_LEARNER_BIN may point at a script that
    runs this file)."""
    import argparse
    import signal
    import sys

    p = argparse.ArgumentParser(description="fake meow learner for simulator tests")
    p.add_argument("--listen", required=True)
    p.add_argument("--env", default="")
    p.add_argument("--token", default="")
    p.add_argument("--run-dir", default=None)
    args = p.parse_args(argv)
    spaces = {}
    if args.env:
        import gymnasium
        from meow_client import as_space

        env = gymnasium.make(args.env)
        spaces = dict(observation_space=as_space(env.observation_space, "observation"),
                      action_space=as_space(env.action_space, "action"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeLearner(args.listen, token=args.token.encode(), **spaces) as learner:
        print(f"fake learner listening on {learner.url}", flush=True)
        try:
            while not stop.wait(0.1):
                pass
        except KeyboardInterrupt:
            pass
    print(f"violations: {learner.violations}", file=sys.stderr)


if __name__ == "__main__":
    main()
