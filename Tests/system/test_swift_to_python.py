"""Swift -> Python interop: the Swift `meow-actor` says HELLO and uploads TRANSITIONS to an
endpoint written in Python with the reference codec (protocol/python/meow_client/wire.py).

The other direction (Python peers against the Swift learner) is covered by the client,
bridge and system tests; this one proves the Swift encoder's frames decode in Python.
"""

import subprocess
import threading

import numpy as np
import pynng

from conftest import free_port
from meow_client import wire


class PythonLearner:
    """A minimal REP endpoint: WELCOME, ACKs, no weights; records what it decoded."""

    def __init__(self, url):
        self.hellos = []
        self.batches = []
        self.errors = []
        self._sock = pynng.Rep0(listen=url, recv_timeout=200)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _answer(self, frame):
        m = frame.message
        if isinstance(m, wire.Hello):
            self.hellos.append(m)
            return wire.Welcome((1, 0), 0, 0xC0FFEE, 0, 0, 32, 8192, 50, 1 << 20, 1000, 1000,
                                wire.Limits().max_frame_bytes, m.env_id, "pendulum")
        if isinstance(m, wire.Transitions):
            self.batches.append(m)
            return wire.TransitionsAck(m.seq, 0, 0, wire.TransitionsStatus.ACCEPTED)
        if isinstance(m, wire.Heartbeat):
            return wire.HeartbeatReply(0xC0FFEE, 0, 0, 0)
        if isinstance(m, (wire.EpisodeStats, wire.Goodbye)):
            return wire.Ack(wire.MESSAGE_TYPES[type(m)])
        # No policy yet: WEIGHTS_REQUEST and anything else get TRY_LATER.
        return wire.Error(wire.ErrorCode.TRY_LATER, wire.MESSAGE_TYPES[type(m)], 100, "no weights in this endpoint")

    def _serve(self):
        while not self._stop.is_set():
            try:
                raw = self._sock.recv_msg().bytes
            except pynng.Timeout:
                continue
            except pynng.Closed:
                return
            try:
                frame = wire.decode(raw)
                reply = wire.Frame(self._answer(frame), request_id=frame.request_id)
            except Exception as error:  # recorded and failed on below
                self.errors.append(repr(error))
                continue
            self._sock.send(wire.encode(reply))

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


def test_swift_actor_frames_decode_in_the_python_codec(bin_dir, tmp_path):
    url = f"tcp://127.0.0.1:{free_port()}"
    learner = PythonLearner(url)
    try:
        actor = subprocess.run(
            [str(bin_dir / "meow-actor"), "--connect", url, "--env", "pendulum", "--actor-id", "7",
             "--max-steps", "256", "--batch-size", "32"],
            capture_output=True, text=True, timeout=60)
    finally:
        learner.close()
    assert not learner.errors, learner.errors
    assert learner.hellos, actor.stderr[-2000:]
    hello = learner.hellos[0]
    assert hello.role == wire.Role.ACTOR and hello.actor_id == 7
    assert tuple(hello.observation_space.shape) == (3,) and tuple(hello.action_space.shape) == (1,)
    assert learner.batches, actor.stderr[-2000:]
    seqs = [b.seq for b in learner.batches]
    assert seqs == list(range(len(seqs))), seqs
    total = sum(len(b.rewards) for b in learner.batches)
    assert total == 256, (total, actor.stderr[-2000:])
    for b in learner.batches:
        assert b.actor_id == 7 and b.run_id == hello.run_id
        assert b.observations.shape[1] == 3 and b.actions.shape[1] == 1
        assert np.all(np.abs(b.actions) <= 1.0)
        assert np.all(np.isfinite(b.rewards))
