"""A hand-driven peer for the learner: forges HELLO, TRANSITIONS and friends with meow_client's codec."""

import random

import numpy as np
import pynng

from meow_client import wire

PENDULUM_OBS = wire.Space((3,), np.array([-1, -1, -8], np.float32), np.array([1, 1, 8], np.float32))
PENDULUM_ACT = wire.Space((1,), np.array([-2], np.float32), np.array([2], np.float32))


class Peer:
    def __init__(self, url: str, actor_id: int = 77, token: bytes = b""):
        self.socket = pynng.Req0(dial=url, recv_timeout=5000, send_timeout=5000)
        self.actor_id = actor_id
        self.run_id = random.getrandbits(63)
        self.token = token
        self.request_id = 0

    def close(self):
        self.socket.close()

    def request(self, message):
        self.request_id += 1
        self.socket.send(wire.encode(wire.Frame(message, request_id=self.request_id)))
        reply = wire.decode(self.socket.recv_msg().bytes)
        assert reply.request_id == self.request_id
        return reply.message

    def hello(self, obs=PENDULUM_OBS, act=PENDULUM_ACT, token=None):
        return self.request(wire.Hello(
            role=wire.Role.ACTOR, min_version=(1, 0), max_version=(1, 0), capabilities=0,
            actor_id=self.actor_id, run_id=self.run_id, client_name="pytest", client_version="0",
            auth_token=self.token if token is None else token, env_id="Pendulum-v1",
            observation_space=obs, action_space=act))

    def transitions(self, seq: int, n: int = 8, obs_dim: int = 3, act_dim: int = 1):
        rng = np.random.default_rng(seq)
        return self.request(wire.Transitions(
            actor_id=self.actor_id, run_id=self.run_id, seq=seq, policy_version=0,
            episode_ids=np.zeros(n, np.uint64), step_indices=np.arange(n, dtype=np.uint32),
            observations=rng.uniform(-1, 1, (n, obs_dim)).astype(np.float32),
            next_observations=rng.uniform(-1, 1, (n, obs_dim)).astype(np.float32),
            actions=rng.uniform(-1, 1, (n, act_dim)).astype(np.float32),
            rewards=rng.uniform(-1, 0, n).astype(np.float32), done_flags=np.zeros(n, np.uint8)))
