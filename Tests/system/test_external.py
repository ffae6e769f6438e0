"""`meow-learner --env external`: a simulator of a shape no preset knows, with real processes.

A point mass in the plane must reach the origin: 5-D observations (position, last action, time
left), 2-D actions (a move of at most 0.2 per axis), reward -distance, 20 steps from a start drawn
by the reset seed. Standing still earns about -15 per episode; heading for the origin about -4.
The learner schedules its deterministic evaluation episodes through the simulator itself
(PROTOCOL.md 5.15) and logs them as Test/return.

Release binaries (conftest). Small networks (--flow-hidden 64) and a small budget keep each
test well under a minute on two shared cores.
"""

import csv
import re
import struct
import subprocess
import threading
import time

import numpy as np
import pytest

from conftest import free_port, read_json, stop, wait_for

import meow_client
from meow_client import wire
from meow_client.errors import LearnerRejected, SpaceMismatch

OBS = wire.Space((5,), np.full(5, -3, np.float32), np.full(5, 3, np.float32))
ACT = wire.Space((2,), np.full(2, -1, np.float32), np.full(2, 1, np.float32))
HORIZON = 20
SMALL = ["--flow-hidden", "64", "--shift-hidden", "64"]


# MARK: - The point mass (the ~20-line simulator the docs describe)

def point_mass(url, steps, evaluate=True, stop_when_over=True):
    """Trains (and evaluates, when the learner asks) for `steps` training steps; returns the client's report."""
    client = meow_client.connect(url, observation_space=OBS, action_space=ACT, evaluation=evaluate, timeout=30)
    taken, episode, evaluations = 0, 0, []
    try:
        while taken < steps:
            seed = client.next_evaluation_seed()
            evaluation = seed is not None
            if not evaluation:
                seed, episode = 1000 + episode, episode + 1
            position = np.random.default_rng(seed).uniform(-1, 1, 2)
            eid = client.start_episode(observe(position, np.zeros(2), 0), seed=seed, evaluation=evaluation)
            total = 0.0
            for t in range(HORIZON):
                action = client.get_action(eid)
                position = np.clip(position + 0.2 * action, -2, 2)
                reward = -float(np.linalg.norm(position))
                total += reward
                client.log_step(eid, reward, False, t == HORIZON - 1, observe(position, action, t + 1))
            client.end_episode(eid)
            if evaluation:
                evaluations.append((seed, total))
            else:
                taken += HORIZON
        client.close()
    except LearnerRejected as e:
        if not stop_when_over or e.code != wire.ErrorCode.SHUTTING_DOWN:
            raise
        client.abort()
    return evaluations


def observe(position, action, t):
    return np.array([*position, *action, 1 - t / HORIZON], np.float32)


def standing_still(seeds):
    """The return of the zero action from each reset seed: the baseline to beat."""
    return [-HORIZON * float(np.linalg.norm(np.random.default_rng(s).uniform(-1, 1, 2))) for s in seeds]


def scalars(path, tag):
    """(step, value) rows of `tag` in metrics.csv."""
    with open(path) as f:
        return [(int(r["step"]), float(r["value"])) for r in csv.DictReader(f) if r["tag"] == tag]


def best_manifest(run):
    pointer = run / "checkpoints" / "best"
    directory = pointer if pointer.is_dir() else run / "checkpoints" / pointer.read_text().strip()
    return read_json(directory / "manifest.json")


def tensorboard_tags(directory):
    """Every scalar tag in the run's TensorBoard event files (TFRecord framing, tags read as bytes)."""
    found = set()
    for path in directory.glob("events.out.tfevents.*"):
        data = path.read_bytes()
        at = 0
        while at + 12 <= len(data):
            (length,) = struct.unpack_from("<Q", data, at)
            record = data[at + 12:at + 12 + length]
            at += 12 + length + 4
            if b"Test/return" in record:
                found.add("Test/return")
    return found


# MARK: - Done when

def test_point_mass_learns_and_its_evaluations_pick_the_best_checkpoint(cluster):
    # 4,000 env steps, one update per step after 500; evaluation every 1,000 steps, 5 episodes.
    learner = cluster.learner("--env", "external", "--learning-starts", "500", "--total-steps", "4000",
                              "--eval-every", "1000", "--eval-episodes", "5", "--checkpoint-every", "0", *SMALL)
    began = time.monotonic()
    evaluations = point_mass(cluster.url, 10_000)
    assert learner.wait(timeout=60) == 0, cluster.log("learner")
    elapsed = time.monotonic() - began

    run = cluster.tmp / "run"
    curve = scalars(run / "metrics.csv", "Test/return")
    # At each boundary, as built-in evaluation: the env step of the first update past it (ingest may
    # run ahead of the updates by the rate limiter's error buffer, 513 transitions here).
    assert len(curve) >= 3 and all(b <= step <= b + 513 for (step, _), b in zip(curve, [1000, 2000, 3000])), curve
    # The learner's Test/return is the mean of the episodes the simulator ran for it, seeds 0-4.
    rounds = [evaluations[i:i + 5] for i in range(0, len(evaluations), 5)]
    assert all(sorted(s for s, _ in r) == [0, 1, 2, 3, 4] for r in rounds if len(r) == 5), evaluations
    for (_, logged), episodes in zip(curve, rounds):
        assert logged == pytest.approx(np.mean([r for _, r in episodes]), abs=1e-3)
    # Margin: the final evaluation beats standing still by at least 4 (about -15 against -11 or better).
    baseline = float(np.mean(standing_still(range(5))))
    assert curve[-1][1] > baseline + 4, (curve, baseline)
    assert "Test/return" in tensorboard_tags(run)
    # The best checkpoint is the best evaluation's, as for built-in environments.
    best_step, best_return = max(curve, key=lambda row: row[1])
    manifest = best_manifest(run)
    assert manifest["best"]["step"] == best_step
    assert manifest["best"]["testReturn"] == pytest.approx(best_return)
    # The spaces are recorded: config.json, the checkpoint and the policy's metadata.
    config = read_json(run / "config.json")
    assert config["spaces"]["observation"]["shape"] == [5] and config["spaces"]["action"]["shape"] == [2]
    assert manifest["spaces"]["spaces"]["observation"]["shape"] == [5]
    header = (run / "policy.safetensors").read_bytes()
    assert b'"spaces"' in header[:8 + struct.unpack_from("<Q", header)[0]]
    # Evaluation episodes stayed out of replay and out of the training curve.
    stats = cluster.learner_stats()
    assert stats["simulators"]["evaluation_episodes"] == len(evaluations)
    assert elapsed < 60


def test_a_second_simulator_of_another_shape_is_refused(cluster):
    cluster.learner("--env", "external", *SMALL)
    wait_for(lambda: (cluster.learner_stats() or {}).get("state") == "waiting-for-first-peer", 30,
             "the learner to wait for its first peer")
    first = meow_client.connect(cluster.url, observation_space=OBS, action_space=ACT, timeout=30)
    other = wire.Space((4,), np.full(4, -1, np.float32), np.full(4, 1, np.float32))
    with pytest.raises(SpaceMismatch) as refused:
        meow_client.connect(cluster.url, observation_space=other, action_space=ACT, timeout=30)
    assert "(4,)" in str(refused.value) or "[4]" in str(refused.value), str(refused.value)
    first.close()


# MARK: - Resume

def test_resume_serves_the_resumed_policy_and_knows_its_spaces(cluster):
    learner = cluster.learner("--env", "external", "--learning-starts", "200", "--total-steps", "100000", *SMALL)
    done = threading.Event()

    def train():
        try:
            point_mass(cluster.url, 100_000, evaluate=False)
        except Exception:
            pass
        done.set()

    threading.Thread(target=train, daemon=True).start()
    stats = wait_for(lambda: (s := cluster.learner_stats()) and s["policy_version"] >= 50 and s, 60, "50 updates")
    assert stop(learner) == 0
    done.wait(30)
    saved = cluster.learner_stats()["policy_version"]
    assert saved >= stats["policy_version"]

    resumed = cluster.learner("--resume", str(cluster.tmp / "run"), "--total-steps", "200000", *SMALL,
                              name="resumed")
    # Its spaces are known before any peer: a simulator of another shape is refused at once.
    other = wire.Space((3,), np.full(3, -1, np.float32), np.full(3, 1, np.float32))
    with pytest.raises(SpaceMismatch):
        meow_client.connect(cluster.url, observation_space=other, action_space=ACT, timeout=30)
    client = meow_client.connect(cluster.url, observation_space=OBS, action_space=ACT, timeout=30)
    assert client.policy_version >= saved
    eid = client.start_episode(observe(np.zeros(2), np.zeros(2), 0))
    client.get_action(eid, deterministic=True)
    assert client.policy_version >= saved  # the first reply comes from the resumed policy
    # Until the resumed learner writes its own stats file, the file is the stopped learner's, whose
    # inference policy may lag its last update: wait for this learner run's file counting the request.
    run_id = client.welcome.learner_run_id
    mine = wait_for(lambda: (s := cluster.learner_stats()) and s["learner_run_id"] == run_id
                    and s["simulators"]["requests"] > 0 and s, 10, "the resumed learner's stats file")
    assert mine["simulators"]["policy_version"] >= saved
    client.close()
    assert stop(resumed) == 0


def test_resuming_a_finished_run_says_so(cluster):
    learner = cluster.learner("--env", "external", "--learning-starts", "100", "--total-steps", "400", *SMALL)
    point_mass(cluster.url, 10_000, evaluate=False)
    assert learner.wait(timeout=60) == 0
    again = cluster.learner("--resume", str(cluster.tmp / "run"), "--learning-starts", "100", *SMALL, name="again")
    with pytest.raises(LearnerRejected) as refused:
        meow_client.connect(cluster.url, observation_space=OBS, action_space=ACT, timeout=10)
    assert refused.value.code == wire.ErrorCode.SHUTTING_DOWN
    assert again.wait(timeout=30) == 0
    assert re.search(r"the run already took its \d+ env steps \(total-steps 400\)", cluster.log("again"))


# MARK: - Pacing

def lag_after(url, steps, stats):
    """Runs `steps` training steps; then how far the simulator ran ahead of the updates (steps - warm-up - updates).

    Counted at the simulator: transitions a gateway holds back count too.
    """
    point_mass(url, steps, evaluate=False, stop_when_over=False)
    return steps - 200 - stats()["updates"]


@pytest.mark.parametrize("path", ["direct", "gateway"])
def test_a_gateway_paces_simulators_like_the_learner(cluster, path):
    # One update per env step after 200 (batch 64); the limiter lets ingest run ahead by one max
    # batch plus one sample batch: 65 transitions.
    cluster.learner("--env", "external", "--learning-starts", "200", "--total-steps", "100000",
                    "--max-batch", "64", "--batch-hint", "32", "--stats-interval-ms", "50", *SMALL)
    url = cluster.url
    if path == "gateway":
        url = f"tcp://127.0.0.1:{free_port()}"
        # A roomy outbox: what a learner that is away can be owed, not how far simulators may run ahead.
        cluster.actor(100, "--gateway-listen", url, "--outbox-capacity", "8", *SMALL)
    lag = lag_after(url, 1200, cluster.learner_stats)
    # Direct: the limiter's 65, plus what the 50 ms old stats file misses. Through a gateway also its
    # batch in flight and the one filling (2 x 32); paced by its outbox instead it ran 9 x 32 ahead.
    allowed = 65 + 40 + (64 if path == "gateway" else 0)
    assert lag <= allowed, (path, lag)


# MARK: - The Gymnasium bridge

def test_the_gym_bridge_runs_the_learners_evaluation_episodes(cluster, tmp_path):
    from meow_client import gym as bridge

    learner = cluster.learner("--env", "external", "--learning-starts", "100", "--total-steps", "100000",
                              "--eval-every", "300", "--eval-episodes", "2", "--max-batch", "64", *SMALL)
    report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", cluster.url, "--steps", "1000",
                                           "--num-envs", "2", "--timeout", "30", "--quiet"]))
    assert report.steps == 1000 and not report.interrupted
    assert stop(learner) == 0
    # Rounds open near 300, 600 and 900 env steps; the copies start a round's seeds 0 and 1 at their
    # next resets (Pendulum: every 200 steps), so the budget ends before a late round runs.
    episodes = report.evaluation_episodes
    assert len(episodes) >= 2 and len(episodes) % 2 == 0, episodes
    rounds = [episodes[i:i + 2] for i in range(0, len(episodes), 2)]
    assert all(sorted(e["seed"] for e in r) == [0, 1] for r in rounds), episodes
    assert report.evaluation_steps == 200 * len(episodes)
    curve = scalars(cluster.tmp / "run" / "metrics.csv", "Test/return")
    assert len(curve) == len(rounds), (curve, episodes)
    # Each Test/return is the mean of the round's episodes, at the first update past its boundary
    # (ingest runs ahead of the updates by at most the error buffer, 65 transitions here).
    for (step, logged), episodes_of_round, boundary in zip(curve, rounds, (300, 600, 900)):
        assert boundary <= step <= boundary + 70, curve
        assert logged == pytest.approx(np.mean([e["return"] for e in episodes_of_round]), rel=1e-4)
    # Evaluation steps stayed out of replay: the learner counted the bridge's training steps only.
    stats = cluster.learner_stats()
    assert stats["env_steps"] == 1000 and stats["simulators"]["evaluation_episodes"] == len(episodes)
