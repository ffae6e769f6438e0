"""Learner checkpoints and --resume with real processes.

A learner with two actors checkpoints every few hundred env steps; SIGTERM makes it write a
final checkpoint and exit 0; a learner started with --resume continues the run while the same
actor processes reconnect. A corrupt or missing checkpoint stops --resume with a message.
"""

import collections
import json
import shutil

from conftest import stop, wait_for
from test_distributed import actor_transitions
from wal import acknowledged_marks


def latest_manifest(run_dir):
    name = (run_dir / "checkpoints" / "latest").read_text().strip()
    return run_dir / "checkpoints" / name, json.loads((run_dir / "checkpoints" / name / "manifest.json").read_text())


def test_sigterm_checkpoints_and_resume_continues_the_run(cluster):
    run_dir = cluster.tmp / "run"
    args = ("--steps", "1000000", "--checkpoint-every", "300", "--eval-every", "1000", "--eval-episodes", "2",
            "--checkpoint-replay")
    learner = cluster.learner(*args)
    actors = [cluster.actor(i) for i in range(2)]
    metrics_file = run_dir / "metrics.csv"
    # Until the first evaluation (at 1,000 env steps) has been written, there is no best checkpoint to expect.
    wait_for(lambda: (cluster.learner_stats() or {}).get("policy_version", 0) > 50
             and all(actor_transitions(cluster.learner_stats(), i) >= 128 for i in range(2))
             and metrics_file.exists() and "Test/return" in metrics_file.read_text(), 90,
             "training with both actors, and a first evaluation")
    assert stop(learner) == 0, cluster.log("learner")
    before = cluster.learner_stats()
    checkpoint, manifest = latest_manifest(run_dir)
    # The stop checkpoint holds everything the learner acknowledged.
    assert manifest["counters"]["steps"] == before["env_steps"]
    assert manifest["counters"]["policyVersion"] == before["policy_version"] > 0
    assert manifest["learner"]["ledger"]["envSteps"] == before["env_steps"]
    assert manifest["replay"]["count"] == before["env_steps"]
    assert set(manifest["randomStreams"]) == {"replay", "evaluation"}
    assert '"learner": {' in manifest["learner"]["effectiveConfig"]
    assert (run_dir / "checkpoints" / "best").exists(), "no best checkpoint after an evaluation"
    assert '"learner": {' in (run_dir / "config.json").read_text()
    metrics = (run_dir / "metrics.csv").read_text()
    for tag in ("ingest/transitions_per_second", "replay/size", "actors/connected", "weights/version",
                "ratelimiter/blocked_seconds"):
        assert tag in metrics, f"{tag} missing from metrics.csv"

    learner = cluster.learner(*args, "--resume", str(run_dir), name="learner2")
    seen_steps = []

    def continued():
        stats = cluster.learner_stats()
        if not stats or stats["learner_run_id"] == before["learner_run_id"]:
            return None
        seen_steps.append(stats["env_steps"])
        return (stats["policy_version"] > before["policy_version"] and stats["env_steps"] > before["env_steps"] + 256
                and all(actor_transitions(stats, i) > actor_transitions(before, i) for i in range(2)))
    wait_for(continued, 60, "the resumed learner to train on both actors' new transitions")
    assert min(seen_steps) >= before["env_steps"], f"env steps went back: {seen_steps[:3]} < {before['env_steps']}"
    assert "the checkpoint's snapshot and" in cluster.log("learner2")
    for index, actor in enumerate(actors):
        assert actor.poll() is None, f"actor {index} exited"
        wait_for(lambda: len((cluster.actor_stats(index) or {}).get("learner_runs", [])) == 2, 20,
                 f"actor {index} to record the resumed learner")
    for index in range(2):
        assert stop(actors[index]) == 0, cluster.log(f"actor{index}")
    assert stop(learner) == 0, cluster.log("learner2")
    after = cluster.learner_stats()
    assert after["policy_version"] > before["policy_version"] and after["env_steps"] > before["env_steps"]
    # Batches accepted while the resumed learner was still loading count on top of the checkpoint's steps.
    _, final = latest_manifest(run_dir)
    assert final["counters"]["steps"] == after["env_steps"] == final["replay"]["count"]

    keys = collections.Counter(acknowledged_marks(run_dir))
    duplicated = [key for key, count in keys.items() if count > 1]
    assert not duplicated, f"batches stored twice: {duplicated[:5]}"

    # A truncated tensor file: --resume names it and exits non-zero instead of starting fresh.
    broken = cluster.tmp / "broken"
    shutil.copytree(run_dir, broken)
    checkpoint, _ = latest_manifest(broken)
    online = checkpoint / "online.safetensors"
    online.write_bytes(online.read_bytes()[:100])
    failed = cluster.learner("--resume", str(broken), run_dir="broken", name="broken")
    assert failed.wait(timeout=30) != 0
    assert str(online) in cluster.log("broken") and "truncated" in cluster.log("broken")


def test_resume_without_a_checkpoint_fails(cluster):
    empty = cluster.tmp / "empty"
    (empty / "checkpoints").mkdir(parents=True)
    learner = cluster.learner("--resume", str(empty), run_dir="empty")
    assert learner.wait(timeout=30) != 0
    assert "no checkpoint at" in cluster.log("learner")
    assert not (empty / "policy.safetensors").exists()
