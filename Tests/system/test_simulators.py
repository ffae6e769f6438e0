"""Simulators against a real meow-learner, on loopback TCP: what unit tests cannot show.

Release binaries (conftest); Pendulum-v1 simulators written with the reference client, so no
Gymnasium is needed. The learner's heartbeat interval is short (200 ms, so a silent simulator is
forgotten after 600 ms).
"""

import threading

import numpy as np
import pytest

from conftest import wait_for

import meow_client
from meow_client import wire

OBS = wire.Space((3,), np.array([-1, -1, -8], np.float32), np.array([1, 1, 8], np.float32))
ACT = wire.Space((1,), np.array([-2], np.float32), np.array([2], np.float32))


def simulators(stats):
    return (stats or {}).get("simulators") or {}


def run_steps(client, episodes, steps, rng):
    """`steps` rounds of one request for all `episodes` (never ended)."""
    ids = [client.start_episode(rng.uniform(-1, 1, 3).astype(np.float32)) for _ in range(episodes)]
    for _ in range(steps):
        client.get_actions(ids)
        client.log_steps(ids, [-1.0] * episodes, [False] * episodes, [False] * episodes,
                         [rng.uniform(-1, 1, 3).astype(np.float32) for _ in ids])
    return ids


# MARK: - Liveness

def test_a_vanished_simulator_loses_only_its_episodes(cluster):
    cluster.learner("--env", "pendulum", "--heartbeat-interval-ms", "200")
    rng = np.random.default_rng(0)
    steady = meow_client.connect(cluster.url, observation_space=OBS, action_space=ACT, timeout=30)
    gone = meow_client.connect(cluster.url, observation_space=OBS, action_space=ACT, timeout=30)
    run_steps(gone, 3, 5, rng)
    gone.abort()  # no GOODBYE: the learner only notices the silence
    ids = run_steps(steady, 2, 5, rng)
    before = simulators(cluster.learner_stats())

    def evicted():
        # Keep the steady simulator talking while the other one falls silent.
        steady.get_actions(ids)
        steady.log_steps(ids, [-1.0, -1.0], [False, False], [False, False],
                         [rng.uniform(-1, 1, 3).astype(np.float32) for _ in ids])
        stats = simulators(cluster.learner_stats())
        return stats if stats.get("sessions_evicted", 0) >= 1 else None

    stats = wait_for(evicted, 30, "the silent simulator's session to be forgotten")
    assert stats["episodes_evicted"] >= 3 and stats["sessions"] == 1
    # The steady simulator's episodes run on: each round still completes one transition per episode.
    assert stats["transitions"] > before.get("transitions", 0)
    assert steady.get_actions(ids).shape == (2, 1)
    steady.close()
    wait_for(lambda: simulators(cluster.learner_stats()).get("running_episodes") == 0, 30,
             "GOODBYE to forget the steady simulator's episodes")


# MARK: - Concurrency

def test_concurrent_simulators_are_all_served(cluster):
    cluster.learner("--env", "pendulum", "--learning-starts", "64", "--batch-size", "32")
    errors = []

    def simulate(seed):
        try:
            rng = np.random.default_rng(seed)
            with meow_client.connect(cluster.url, observation_space=OBS, action_space=ACT, timeout=30) as client:
                ids = run_steps(client, 4, 100, rng)
                for eid in ids:
                    client.end_episode(eid, send_stats=False)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=simulate, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    # 6 simulators x 4 episodes x 99 completed steps, plus each episode's final (truncated) transition.
    stats = wait_for(lambda: (s := cluster.learner_stats()) and simulators(s).get("transitions", 0) >= 2400 and s,
                     30, "every simulator's transitions in the learner's counters")
    sims = simulators(stats)
    assert sims["transitions"] == 6 * 4 * 100 and stats["env_steps"] >= 2400
    assert sims["errors"] == 0 and sims["requests"] >= 6 * 101
    assert sims["episodes_started"] == 24 and sims["episodes_ended"] == 24
    assert stats["updates"] > 0


@pytest.mark.parametrize("wrong", ["token", "spaces"])
def test_refusals_name_what_to_change(cluster, wrong):
    cluster.learner("--env", "pendulum", "--token", "right-token")
    observation = wire.Space.box((4,), -1.0, 1.0) if wrong == "spaces" else OBS
    token = "wrong" if wrong == "token" else "right-token"
    expected = meow_client.AuthFailed if wrong == "token" else meow_client.SpaceMismatch
    with pytest.raises(expected) as refusal:
        meow_client.connect(cluster.url, token, observation_space=observation, action_space=ACT, timeout=30)
    assert ("token" if wrong == "token" else "shape") in str(refusal.value)
