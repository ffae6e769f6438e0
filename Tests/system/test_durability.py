"""Acknowledged means durable, with real processes: kill -9 of the learner at random points, a
fresh learner on the same port, and a run directory that belongs to one run (docs/checkpoints.md).

Content, not counters, decides: actors write the rows of every batch the learner acknowledged
(`meow-actor --acked-log`), the last learner writes replay's rows when it stops
(`meow-learner --dump-replay`), and every acknowledged row must be in replay exactly once.
"""

import collections
import os
import random
import signal
import threading
import time
import traceback

import numpy as np
import pynng

from conftest import stop, wait_for
from meow_client import wire
from peer import PENDULUM_ACT, PENDULUM_OBS

PENDULUM_ROW = 3 + 1 + 1 + 3  # observation, action, reward, next observation (float32)


def rows(path):
    if not path.exists():
        return collections.Counter()
    values = np.fromfile(path, dtype="<f4")
    assert values.size % PENDULUM_ROW == 0, f"{path} holds a partial row"
    return collections.Counter(row.tobytes() for row in values.reshape(-1, PENDULUM_ROW))


def sessions_of(samples):
    """policy_version samples grouped by learner run id, in the order the runs appeared."""
    order, versions = [], collections.defaultdict(list)
    for run, version in samples:
        if run not in versions:
            order.append(run)
        versions[run].append(version)
    return [versions[run] for run in order]


def test_kill_nine_at_random_points_loses_and_duplicates_no_acknowledged_transition(cluster):
    seed = int(os.environ.get("MEOW_KILL_SEED", random.randrange(1 << 30)))
    print(f"kill -9 seed {seed} (MEOW_KILL_SEED={seed} repeats the kill points)")
    rng = random.Random(seed)
    run_dir = cluster.tmp / "run"
    args = ("--steps", "1000000", "--checkpoint-every", "3000", "--heartbeat-interval-ms", "200")
    learner = cluster.learner(*args)
    actors = [cluster.actor(i, "--acked-log", str(cluster.tmp / f"acked{i}.bin")) for i in range(3)]
    samples = []

    def sample():
        stats = cluster.learner_stats()
        if stats:
            samples.append((stats["learner_run_id"], stats["policy_version"]))
        return stats

    wait_for(lambda: (sample() or {}).get("policy_version", 0) > 0, 60, "the first update")
    for kill in range(5):
        # The first kill comes before the first checkpoint: that resume has the log alone.
        deadline = time.monotonic() + (rng.uniform(0.0, 0.3) if kill == 0 else rng.uniform(0.3, 2.5))
        while time.monotonic() < deadline:
            sample()
            time.sleep(0.05)
        previous = (cluster.learner_stats() or {}).get("learner_run_id")
        learner.send_signal(signal.SIGKILL)
        learner.wait()
        # The last learner writes replay's rows when it stops.
        dump = ("--dump-replay", str(cluster.tmp / "replay.bin")) if kill == 4 else ()
        learner = cluster.learner(*args, "--resume", str(run_dir), *dump, name=f"learner{kill + 2}")
        wait_for(lambda: (sample() or {}).get("learner_run_id") not in (None, previous), 30,
                 f"learner {kill + 2} to resume")
    # A short session may come and go while an actor backs off, so an actor need not meet all six.
    last_run = cluster.learner_stats()["learner_run_id"]
    wait_for(lambda: all((cluster.actor_stats(i) or {}).get("learner_runs", [])[-1:] == [last_run] for i in range(3)),
             30, "every actor to be welcomed by the last learner")
    for actor in actors:
        actor.send_signal(signal.SIGTERM)  # they drain their outboxes, then say GOODBYE
    for index, actor in enumerate(actors):
        assert actor.wait(timeout=40) == 0, cluster.log(f"actor{index}")
    learner.send_signal(signal.SIGTERM)
    assert learner.wait(timeout=40) == 0, cluster.log("learner6")

    assert "has no checkpoint yet; continuing from its write-ahead log" in cluster.log("learner2")
    replay = rows(cluster.tmp / "replay.bin")
    acknowledged = collections.Counter()
    for index in range(3):
        acknowledged.update(rows(cluster.tmp / f"acked{index}.bin"))
    lost = [row for row in acknowledged if replay[row] == 0]
    duplicated = [row for row, count in replay.items() if count > 1]
    print(f"{sum(acknowledged.values())} acknowledged transitions, {sum(replay.values())} in replay, "
          f"{len(lost)} lost, {len(duplicated)} duplicated")
    assert sum(acknowledged.values()) > 1000
    assert not lost, f"{len(lost)} acknowledged transitions are not in replay (seed {seed})"
    assert not duplicated, f"{len(duplicated)} transitions are in replay more than once (seed {seed})"
    assert all(count == 1 for count in acknowledged.values()), "an actor logged a row twice"

    # Versions never go backwards: every session serves above everything the one before it served.
    sessions = sessions_of(samples)
    assert len(sessions) == 6, f"learner sessions seen: {len(sessions)}"
    for before, after in zip(sessions, sessions[1:]):
        assert min(after) > max(before), f"versions went back: {max(before)} then {min(after)} (seed {seed})"


def test_actors_act_on_a_fresh_learners_weights_within_2s_of_its_welcome(cluster):
    first = cluster.learner("--steps", "1000000", run_dir="first")
    actors = [cluster.actor(i) for i in range(2)]
    wait_for(lambda: all((cluster.actor_stats(i) or {}).get("held_version", 0) > 20 for i in range(2)), 60,
             "both actors to act on trained weights")
    first.send_signal(signal.SIGKILL)
    first.wait()
    # A fresh run on the same port: its versions start again at 0, far below what the actors hold.
    second = cluster.learner("--steps", "1000000", "--min-replay", "64", run_dir="second", name="second")
    run_id = wait_for(lambda: (cluster.learner_stats("second") or {}).get("learner_run_id"), 30, "the new learner")

    def switched(index):
        stats = cluster.actor_stats(index) or {}
        return (stats.get("learner_runs", [])[-1:] == [run_id]
                and stats.get("weights_after_new_learner_ms") is not None)
    wait_for(lambda: all(switched(i) for i in range(2)), 30, "both actors to load the new learner's weights")
    for index in range(2):
        stats = cluster.actor_stats(index)
        assert stats["weights_after_new_learner_ms"] <= 2000, cluster.log(f"actor{index}")
        # The version held is one the new learner served (its stats file may lag the actor's by a second).
        wait_for(lambda: cluster.learner_stats("second")["policy_version"] >= stats["held_version"], 10,
                 "the new learner to report the version the actor holds")
        log = cluster.log(f"actor{index}")
        assert "welcomed by a new learner run" in log, log
        assert "cannot reach the learner" in log or "lost learner run" in log, log
        assert stop(actors[index]) == 0
    assert stop(second) == 0, cluster.log("second")


def test_a_run_directory_belongs_to_one_run(cluster):
    run_dir = cluster.tmp / "run"
    learner = cluster.learner("--steps", "1000000")
    actor = cluster.actor(0)
    wait_for(lambda: ((cluster.learner_stats() or {}).get("env_steps", 0)) > 0, 60, "transitions")

    # A second learner, even one that would resume, is kept out while the first holds the directory.
    intruder = cluster.learner("--resume", str(run_dir), name="intruder")
    assert intruder.wait(timeout=30) != 0
    assert f"run directory {run_dir} is in use by another meow-learner (pid {learner.pid})" in cluster.log("intruder")

    assert stop(actor) == 0
    assert stop(learner) == 0, cluster.log("learner")
    steps = cluster.learner_stats()["env_steps"]
    fresh = cluster.learner("--steps", "1000000", name="fresh")
    assert fresh.wait(timeout=30) != 0
    message = cluster.log("fresh")
    assert f"run directory {run_dir} already holds a run (env pendulum, {steps} env steps" in message, message
    assert "--resume" in message and "--overwrite" in message
    assert (run_dir / "metrics.csv").exists() and (run_dir / "policy.safetensors").exists()

    first_run = cluster.learner_stats()["learner_run_id"]
    again = cluster.learner("--steps", "1000000", "--overwrite", name="again")
    wait_for(lambda: (cluster.learner_stats() or {}).get("learner_run_id") not in (None, first_run), 30, "the new run")
    assert stop(again) == 0, cluster.log("again")
    assert "deleting the earlier run" in cluster.log("again")
    assert cluster.learner_stats()["env_steps"] == 0, "the new run counts from zero"


class Simulator:
    """A hand-driven simulator whose observations name their step, so replay can be checked by content.

    Step k observes (k mod 1000 / 1000, k div 1000 / 1000, 0.5) and earns reward -(k mod 97) / 97.
    Every ACTION_REPLY makes the transitions its request completed durable; those rows are kept in
    `acknowledged`. A lost learner ends the episode: the next learner starts a new one.
    """

    def __init__(self, url: str):
        self.url = url
        self.k = 0
        self.episode = 0
        self.acknowledged = collections.Counter()
        self.socket = None
        self.request_id = 0
        self.error = None

    @staticmethod
    def observation(k):
        return np.array([(k % 1000) / 1000, (k // 1000) / 1000, 0.5], np.float32)

    @staticmethod
    def reward(k):
        return np.float32(-(k % 97) / 97)

    def request(self, message):
        self.request_id += 1
        self.socket.send(wire.encode(wire.Frame(message, request_id=self.request_id)))
        return wire.decode(self.socket.recv_msg().bytes).message

    def connect(self):
        if self.socket is not None:
            self.socket.close()
        self.socket = pynng.Req0(recv_timeout=1500, send_timeout=1500)
        self.socket.resend_time = 0  # no REQ resend to a learner that never saw the episode
        # Not a blocking dial: one made while the learner restarts fails at once ("Connection shutdown");
        # nng keeps redialling in the background instead.
        self.socket.dial(self.url, block=False)
        while True:
            try:
                reply = self.request(wire.Hello(
                    role=wire.Role.SIMULATOR, min_version=(1, 0), max_version=(1, 0), capabilities=0, actor_id=0,
                    run_id=random.getrandbits(63), client_name="pytest-simulator", client_version="0",
                    auth_token=b"", env_id="Pendulum-v1", observation_space=PENDULUM_OBS,
                    action_space=PENDULUM_ACT))
                if isinstance(reply, wire.Welcome):
                    return
            except pynng.exceptions.NNGException:  # timed out, or the learner reset the connection
                pass
            time.sleep(0.1)

    def act(self, event, k, previous_action=None):
        """One row; returns the action, or None when the learner is gone (the episode is lost)."""
        message = wire.ActionRequest(
            deterministic=False, want_values=False, action_dim=1,
            episode_ids=np.array([self.episode], np.uint64), observations=self.observation(k)[None, :],
            prev_rewards=np.array([0 if event == wire.ActionEvent.START else self.reward(k - 1)], np.float32),
            events=np.array([event], np.uint8),
            prev_done_flags=np.array([2 if event == wire.ActionEvent.END else 0], np.uint8))
        while True:
            try:
                reply = self.request(message)
            except pynng.exceptions.NNGException:  # timed out, or the learner reset the connection
                return None
            if isinstance(reply, wire.Error) and reply.code == wire.ErrorCode.TRY_LATER:
                time.sleep(max(1, reply.retry_after_ms) / 1000)  # nothing was applied: the same row again
                continue
            if not isinstance(reply, wire.ActionReply):
                return None
            if previous_action is not None:
                row = np.concatenate([self.observation(k - 1), previous_action, [self.reward(k - 1)],
                                      self.observation(k)]).astype("<f4")
                self.acknowledged[row.tobytes()] += 1
            return reply.actions[0].astype(np.float32)

    def run(self, stop, episode_steps=50):
        try:
            self.episodes(stop, episode_steps)
        except Exception:  # noqa: BLE001 - the test reports it
            self.error = traceback.format_exc()
            raise

    def episodes(self, stop, episode_steps):
        self.connect()
        while not stop():
            self.episode += 1
            self.k += 1
            action = self.act(wire.ActionEvent.START, self.k)
            for step in range(1, episode_steps + 1):
                if action is None:
                    break
                self.k += 1
                event = wire.ActionEvent.END if step == episode_steps else wire.ActionEvent.STEP
                action = self.act(event, self.k, previous_action=action)
            if action is None:
                self.connect()


def test_kill_nine_loses_no_simulator_transition_the_learner_answered(cluster):
    seed = int(os.environ.get("MEOW_KILL_SEED", random.randrange(1 << 30)))
    print(f"kill -9 seed {seed} (MEOW_KILL_SEED={seed} repeats the kill points)")
    rng = random.Random(seed)
    run_dir = cluster.tmp / "run"
    args = ("--steps", "1000000", "--checkpoint-every", "2000")
    learner = cluster.learner(*args)
    simulator = Simulator(cluster.url)
    stopping = threading.Event()
    thread = threading.Thread(target=simulator.run, args=(stopping.is_set,), daemon=True)
    thread.start()
    wait_for(lambda: (cluster.learner_stats() or {}).get("env_steps", 0) > 300, 60, "simulator transitions")
    for kill in range(3):
        time.sleep(rng.uniform(0.2, 2.0))
        previous = (cluster.learner_stats() or {}).get("learner_run_id")
        learner.send_signal(signal.SIGKILL)
        learner.wait()
        dump = ("--dump-replay", str(cluster.tmp / "replay.bin")) if kill == 2 else ()
        learner = cluster.learner(*args, "--resume", str(run_dir), *dump, name=f"learner{kill + 2}")
        wait_for(lambda: (cluster.learner_stats() or {}).get("learner_run_id") not in (None, previous), 30,
                 f"learner {kill + 2} to resume")
    acknowledged_before = sum(simulator.acknowledged.values())
    wait_for(lambda: simulator.error or sum(simulator.acknowledged.values()) > acknowledged_before + 100, 60,
             "transitions acknowledged by the last learner")
    assert simulator.error is None, simulator.error
    stopping.set()
    thread.join(timeout=30)
    learner.send_signal(signal.SIGTERM)
    assert learner.wait(timeout=40) == 0, cluster.log("learner4")

    replay = rows(cluster.tmp / "replay.bin")
    lost = [row for row in simulator.acknowledged if replay[row] == 0]
    duplicated = [row for row, count in replay.items() if count > 1]
    print(f"{sum(simulator.acknowledged.values())} acknowledged simulator transitions, "
          f"{sum(replay.values())} in replay, {len(lost)} lost, {len(duplicated)} duplicated")
    assert sum(simulator.acknowledged.values()) > 300
    assert not lost, f"{len(lost)} answered simulator transitions are not in replay (seed {seed})"
    assert not duplicated, f"{len(duplicated)} transitions are in replay more than once (seed {seed})"
