"""Multi-process tests of meow-learner and meow-actor, on loopback TCP.

Each test has its own free port and temporary run directory, and tiny budgets
(learning starts 200, batch 64, a few hundred to a few thousand updates).
"""

import signal

import numpy as np

from conftest import stop, wait_for
from meow_client import wire
from peer import Peer


def actor_transitions(stats, actor_id):
    entry = (stats or {}).get("actors", {}).get(str(actor_id))
    return entry["transitions"] if entry else 0


# MARK: - Training with several actors

def test_three_actors_train_and_pick_up_new_weights(cluster):
    learner = cluster.learner("--steps", "1500")
    # Actors dialled before the learner binds back off exponentially (up to seconds); a late one could find
    # the small budget spent. The stats file is written only once the learner listens.
    wait_for(lambda: cluster.learner_stats() is not None, 60, "the learner to listen")
    actors = [cluster.actor(i) for i in range(3)]
    assert learner.wait(timeout=120) == 0, cluster.log("learner")
    for index, actor in enumerate(actors):
        assert actor.wait(timeout=30) == 0, cluster.log(f"actor{index}")

    stats = cluster.learner_stats()
    assert stats["state"] == "finished"
    assert stats["env_steps"] >= 1500
    assert stats["policy_version"] > 0 and stats["updates"] > 0
    for index in range(3):
        assert actor_transitions(stats, index) > 0, f"no transitions from actor {index}"
        actor = cluster.actor_stats(index)
        assert actor["state"] == "run-over"
        # TRANSITIONS_ACK (TRY_LATER too) and HEARTBEAT_REPLY name the learner's version, and an actor
        # follows it even while the rate limiter holds its batch back: each hears of a trained policy
        # long before the 1,500 steps are in.
        assert any(version > 0 for version in actor["weights_versions"]), f"actor {index} never loaded weights"
    assert (cluster.tmp / "run" / "policy.safetensors").stat().st_size > 0
    metrics = (cluster.tmp / "run" / "metrics.csv").read_text()
    assert "losses/qf_loss" in metrics and "charts/episodic_return" in metrics


# MARK: - Fault tolerance

def test_killing_an_actor_leaves_the_learner_and_other_actors_running(cluster):
    learner = cluster.learner("--steps", "1000000", "--heartbeat-interval-ms", "200")
    actors = [cluster.actor(i) for i in range(3)]
    wait_for(lambda: all(actor_transitions(cluster.learner_stats(), i) > 0 for i in range(3)), 60,
             "transitions from all three actors")
    actors[2].send_signal(signal.SIGKILL)
    actors[2].wait()
    before = cluster.learner_stats()
    wait_for(lambda: not (cluster.learner_stats() or {}).get("actors", {}).get("2", {}).get("live", True), 20,
             "the learner to forget actor 2")
    wait_for(lambda: all(actor_transitions(cluster.learner_stats(), i) > actor_transitions(before, i) + 64
                         for i in (0, 1)), 60, "more transitions from actors 0 and 1")
    after = cluster.learner_stats()
    assert after["updates"] > before["updates"]
    assert learner.poll() is None
    assert all(actor.poll() is None for actor in actors[:2])
    for index in (0, 1):
        assert stop(actors[index]) == 0
    assert stop(learner) == 0, cluster.log("learner")
    assert (cluster.tmp / "run" / "policy.safetensors").exists()


# MARK: - Forged requests

def test_duplicates_are_acknowledged_and_ignored_and_bad_shapes_refused(cluster):
    learner = cluster.learner("--steps", "1000000")
    peer = Peer(cluster.url)
    try:
        welcome = wait_for(lambda: _try_hello(peer), 30, "the learner to answer HELLO")
        assert isinstance(welcome, wire.Welcome)
        first = peer.transitions(seq=0)
        assert first.status == wire.TransitionsStatus.ACCEPTED
        again = peer.transitions(seq=0)
        assert again.status == wire.TransitionsStatus.DUPLICATE
        wrong = peer.transitions(seq=1, obs_dim=4)
        assert isinstance(wrong, wire.Error) and wrong.code == wire.ErrorCode.SPACE_MISMATCH
        assert peer.transitions(seq=1).status == wire.TransitionsStatus.ACCEPTED

        stats = wait_for(lambda: _stats_with(cluster, lambda s: s["duplicates"] >= 1), 10, "the stats file")
        assert actor_transitions(stats, peer.actor_id) == 16
        assert stats["actors"][str(peer.actor_id)]["batches"] == 2
        assert stats["space_mismatches"] == 1

        other = Peer(cluster.url, actor_id=78)
        bad_space = wire.Space((4,), np.full(4, -1, np.float32), np.full(4, 1, np.float32))
        refused = other.hello(obs=bad_space)
        other.close()
        assert isinstance(refused, wire.Refused) and refused.code == wire.ErrorCode.SPACE_MISMATCH
    finally:
        peer.close()
    assert learner.poll() is None
    assert stop(learner) == 0


def test_wrong_or_missing_token_is_refused_with_auth_failed(cluster):
    env = {"MEOW_TOKEN": "s3cret", "PATH": "/usr/bin:/bin"}
    learner = cluster.learner("--steps", "1000000", env=env)
    peer = Peer(cluster.url)
    try:
        missing = wait_for(lambda: _try_hello(peer, token=b""), 30, "the learner to answer HELLO")
        assert isinstance(missing, wire.Refused) and missing.code == wire.ErrorCode.AUTH_FAILED
        wrong = peer.hello(token=b"s3creT")
        assert isinstance(wrong, wire.Refused) and wrong.code == wire.ErrorCode.AUTH_FAILED
        assert isinstance(peer.hello(token=b"s3cret"), wire.Welcome)
    finally:
        peer.close()
    actor = cluster.actor(5, "--token", "wrong")
    assert actor.wait(timeout=30) != 0
    assert "AUTH_FAILED" in cluster.log("actor5")
    assert "s3cret" not in cluster.log("learner")
    assert stop(learner) == 0


def test_metrics_endpoint_reports_ingest(cluster):
    import urllib.request
    from conftest import free_port
    port = free_port()
    learner = cluster.learner("--steps", "1000000", "--metrics-listen", str(port))
    peer = Peer(cluster.url)
    try:
        wait_for(lambda: _try_hello(peer), 30, "the learner to answer HELLO")
        assert peer.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED

        def scrape():
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                return None
            return text if "meow_env_steps_total 8" in text else None
        text = wait_for(scrape, 15, "meow_env_steps_total in /metrics")
        assert 'meow_transitions_ingested_total{actor="77"} 8' in text
        ready = urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
        assert ready.status == 200
    finally:
        peer.close()
    assert stop(learner) == 0


def test_non_loopback_listener_needs_a_token(cluster):
    learner = cluster.learner("--listen", f"tcp://0.0.0.0:{cluster.port}", "--steps", "1000")
    assert learner.wait(timeout=30) != 0
    assert "token" in cluster.log("learner")


def _try_hello(peer, **kwargs):
    try:
        return peer.hello(**kwargs)
    except Exception:
        return None


def _stats_with(cluster, predicate):
    stats = cluster.learner_stats()
    return stats if stats and predicate(stats) else None
