"""The MuJoCo tasks through meow's own programs, with real release binaries and no Python simulator:
`meow model`, `meow train --env hopper --model`, `meow evaluate`, `meow config`, and a learner with
native hopper actors (its learner-side evaluation writes Test/return)."""

import csv
import json
import re
import subprocess
from pathlib import Path

from conftest import stop, wait_for

FAST = ["--learning-starts", "100", "--batch-size", "16"]


def meow(bin_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "meow"), *args], capture_output=True, text=True, timeout=timeout)


def test_model_prints_the_built_in_mjcf_and_refuses_other_environments(bin_dir: Path) -> None:
    result = meow(bin_dir, "model", "--env", "Hopper-v4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith("<mujoco") and result.stdout.rstrip().endswith("</mujoco>")
    refused = meow(bin_dir, "model", "--env", "pendulum")
    assert refused.returncode != 0
    assert "'pendulum' is not a MuJoCo task" in refused.stderr and "hopper" in refused.stderr


def test_config_works_for_every_mujoco_task(bin_dir: Path) -> None:
    for name in ("hopper", "walker2d", "halfcheetah", "ant", "humanoid"):
        result = meow(bin_dir, "config", "--env", name)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["env"] == name


def test_train_a_variant_then_evaluate_it_from_the_run_directory(bin_dir: Path, tmp_path: Path) -> None:
    # A heavier torso: the variant's file is what both training and evaluation simulate.
    model = meow(bin_dir, "model", "--env", "hopper").stdout
    variant = tmp_path / "heavy-hopper.xml"
    heavier, count = re.subn(r'<geom name="torso_geom"', '<geom name="torso_geom" density="3000"', model)
    assert count == 1
    variant.write_text(heavier)
    run_dir = tmp_path / "run"
    result = meow(bin_dir, "train", "--env", "hopper", "--model", str(variant), "--steps", "300", *FAST,
                  "--eval-every", "300", "--eval-episodes", "1", "--run-dir", str(run_dir), "--quiet")
    assert result.returncode == 0, result.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env"] == "hopper" and config["model"] == str(variant)
    with open(run_dir / "metrics.csv", newline="") as rows:
        assert any(row[1] == "Test/return" for row in csv.reader(rows))

    evaluation = meow(bin_dir, "evaluate", "--policy", str(run_dir / "policy.safetensors"), "--episodes", "2")
    assert evaluation.returncode == 0, evaluation.stderr
    assert f"evaluating hopper (model {variant})" in evaluation.stderr
    assert "mean return" in evaluation.stdout and "over 2 episodes" in evaluation.stdout

    missing = meow(bin_dir, "train", "--env", "hopper", "--model", str(tmp_path / "nope.xml"), "--steps", "10",
                   "--run-dir", str(tmp_path / "missing"))
    assert missing.returncode != 0
    assert str(tmp_path / "nope.xml") in missing.stderr
    wrong = meow(bin_dir, "train", "--env", "pendulum", "--model", str(variant), "--steps", "10",
                 "--run-dir", str(tmp_path / "wrong"))
    assert wrong.returncode != 0 and "not a MuJoCo task" in wrong.stderr


def test_learner_evaluates_hopper_trained_by_native_actors(cluster) -> None:
    learner = cluster.learner("--env", "hopper", "--steps", "1500", "--eval-every", "1500", "--eval-episodes", "1")
    actors = [cluster.actor(index, "--env", "hopper", "--envs", "2") for index in range(2)]
    wait_for(lambda: learner.poll() is not None, 180, "the learner to finish its 1500 steps")
    assert learner.returncode == 0, cluster.log("learner")
    for actor in actors:
        stop(actor)
    stats = cluster.learner_stats()
    assert stats["env_steps"] >= 1500, stats
    # Together the actors delivered the run (one may join late on a loaded machine and find it nearly over).
    acked = sum(cluster.actor_stats(index)["transitions_acked"] for index in range(2))
    assert acked >= 1500, cluster.log("actor0") + cluster.log("actor1")
    with open(cluster.tmp / "run" / "metrics.csv", newline="") as rows:
        returns = [row for row in csv.reader(rows) if row[1] == "Test/return"]
    assert returns, "the learner evaluates the MuJoCo task itself"
