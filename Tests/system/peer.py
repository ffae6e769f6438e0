"""A hand-driven peer for the learner: forges HELLO, TRANSITIONS and friends with meow_client's codec."""

import random

import numpy as np
import pynng

from meow_client import wire

PENDULUM_OBS = wire.Space((3,), np.array([-1, -1, -8], np.float32), np.array([1, 1, 8], np.float32))
PENDULUM_ACT = wire.Space((1,), np.array([-2], np.float32), np.array([2], np.float32))


class Peer:
    def __init__(self, url: str, actor_id: int = 77, token: bytes = b"", role: int = wire.Role.ACTOR,
                 run_id: int = None):
        self.socket = pynng.Req0(dial=url, recv_timeout=5000, send_timeout=5000)
        self.actor_id = actor_id
        self.run_id = random.getrandbits(63) if run_id is None else run_id
        self.token = token
        self.role = role
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
            role=self.role, min_version=(1, 0), max_version=(1, 0), capabilities=0,
            actor_id=self.actor_id, run_id=self.run_id, client_name="pytest", client_version="0",
            auth_token=self.token if token is None else token, env_id="Pendulum-v1",
            observation_space=obs, action_space=act))

    def transitions(self, seq: int, n: int = 8, obs_dim: int = 3, act_dim: int = 1, actor_id: int = None):
        rng = np.random.default_rng(seq)
        return self.request(wire.Transitions(
            actor_id=self.actor_id if actor_id is None else actor_id, run_id=self.run_id, seq=seq, policy_version=0,
            episode_ids=np.zeros(n, np.uint64), step_indices=np.arange(n, dtype=np.uint32),
            observations=rng.uniform(-1, 1, (n, obs_dim)).astype(np.float32),
            next_observations=rng.uniform(-1, 1, (n, obs_dim)).astype(np.float32),
            actions=rng.uniform(-1, 1, (n, act_dim)).astype(np.float32),
            rewards=rng.uniform(-1, 0, n).astype(np.float32), done_flags=np.zeros(n, np.uint8)))

    def goodbye(self):
        return self.request(wire.Goodbye(wire.GoodbyeReason.DONE, "pytest"))

    def heartbeat(self, actor_id=None):
        return self.request(wire.Heartbeat(self.actor_id if actor_id is None else actor_id, 0, self.run_id,
                                           0, 0, 0, 0, 0, 0))

    def episode_stats(self, actor_id=None):
        one = np.ones(1)
        return self.request(wire.EpisodeStats(self.actor_id if actor_id is None else actor_id, self.run_id,
                                              np.zeros(1, np.uint64), np.zeros(1, np.uint64), one, one,
                                              np.ones(1, np.uint32)))

    def weights_request(self):
        return self.request(wire.WeightsRequest(0, 0, 0, False))

    def action_request(self):
        return self.request(wire.ActionRequest(
            False, False, 1, np.array([1], np.uint64), np.zeros((1, 3), np.float32), np.zeros(1, np.float32),
            np.array([wire.ActionEvent.START], np.uint8), np.zeros(1, np.uint8)))
