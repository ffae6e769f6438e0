"""A trained policy outside its run: `meow act` (Swift) and `meow_client.Policy` (numpy) agree.

A tiny `meow train` writes policy.safetensors; both read it on their own (no config.json) and
must give the same deterministic actions, soft V and soft Q to 1e-5 on the same observations,
and the same Q and V at the Swift side's sampled actions. Pendulum has one action dimension,
MultiGoal two, so that the alternating coupling masks are exercised as well."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import meow_client
from meow_client.policy import read_safetensors

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def meow(bin_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "meow"), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module", params=["pendulum", "multigoal"])
def trained(request, bin_dir: Path, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp(request.param)
    result = meow(bin_dir, "train", "--env", request.param, "--steps", "600", "--learning-starts", "200",
                  "--batch-size", "32", "--flow-hidden", "24", "--shift-hidden", "24", "--eval-every", "0",
                  "--seed", "3", "--run-dir", str(run_dir), "--overwrite")
    assert result.returncode == 0, result.stderr[-3000:]
    policy = run_dir / "policy.safetensors"
    # Read on its own: nothing of the run directory besides the file itself.
    alone = tmp_path_factory.mktemp(f"{request.param}-alone") / "policy.safetensors"
    alone.write_bytes(policy.read_bytes())
    return alone


def observations(policy: meow_client.Policy, rows: int = 16) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.uniform(-2.0, 2.0, (rows, policy.observation_dim)).astype(np.float32)


def swift_act(bin_dir: Path, policy: Path, obs_file: Path, *extra: str):
    result = meow(bin_dir, "act", "--policy", str(policy), "--observations", str(obs_file), *extra)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return (np.array([r["action"] for r in rows], np.float64), np.array([r["q"] for r in rows]),
            np.array([r["v"] for r in rows]))


def test_policy_file_is_read_like_the_safetensors_package_reads_it(trained: Path) -> None:
    mine, metadata = read_safetensors(trained)
    theirs = load_file(str(trained))
    assert sorted(mine) == sorted(theirs)
    for name, values in theirs.items():
        np.testing.assert_array_equal(mine[name], values.astype(np.float64))
    assert metadata["format"] == "meow-policy"


def test_deterministic_actions_q_and_v_agree_with_meow_act(bin_dir: Path, trained: Path, tmp_path: Path) -> None:
    policy = meow_client.Policy.load(trained)
    obs = observations(policy)
    np.save(tmp_path / "obs.npy", obs)
    actions, q, v = swift_act(bin_dir, trained, tmp_path / "obs.npy")
    assert actions.shape == (len(obs), policy.action_dim) and np.all(np.abs(actions) <= 1)
    np.testing.assert_allclose(policy.act(obs), actions, **TOLERANCE)
    np.testing.assert_allclose(policy.v(obs), v, **TOLERANCE)
    np.testing.assert_allclose(policy.q(obs, actions), q, **TOLERANCE)
    # One observation at a time gives the same as the batch, as plain numbers.
    assert policy.v(obs[0]) == pytest.approx(float(policy.v(obs)[0]), rel=1e-12)
    np.testing.assert_allclose(policy.act(obs[3]), policy.act(obs)[3], rtol=1e-12)
    # A CSV of the same numbers is the same input.
    np.savetxt(tmp_path / "obs.csv", obs, delimiter=",", fmt="%.9g")
    csv_actions, _, csv_v = swift_act(bin_dir, trained, tmp_path / "obs.csv")
    np.testing.assert_array_equal(csv_actions, actions)
    np.testing.assert_array_equal(csv_v, v)


def test_q_and_v_agree_at_sampled_actions(bin_dir: Path, trained: Path, tmp_path: Path) -> None:
    policy = meow_client.Policy.load(trained)
    obs = observations(policy).astype(np.float64)  # float64 .npy is read too
    np.save(tmp_path / "obs.npy", obs)
    actions, q, v = swift_act(bin_dir, trained, tmp_path / "obs.npy", "--stochastic", "--seed", "5")
    again, _, _ = swift_act(bin_dir, trained, tmp_path / "obs.npy", "--stochastic", "--seed", "5")
    np.testing.assert_array_equal(actions, again)
    assert not np.allclose(actions, policy.act(obs))  # sampled, not the mean action
    np.testing.assert_allclose(policy.q(obs, actions), q, **TOLERANCE)
    np.testing.assert_allclose(policy.v(obs), v, **TOLERANCE)
    sampled = policy.act(obs, deterministic=False, rng=np.random.default_rng(1))
    assert sampled.shape == actions.shape and np.all(np.abs(sampled) <= 1)


def test_meow_act_names_the_file_it_cannot_use(bin_dir: Path, trained: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("1,2,3,4,5,6,7\n")
    result = meow(bin_dir, "act", "--policy", str(trained), "--observations", str(wrong))
    assert result.returncode != 0 and f"Observations file {wrong} has 7 values on line 1" in result.stderr
    not_policy = tmp_path / "obs.safetensors"
    not_policy.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    result = meow(bin_dir, "act", "--policy", str(not_policy), "--observations", str(wrong))
    assert result.returncode != 0 and f"policy {not_policy} cannot be used: its metadata field 'format'" in result.stderr
    assert "metadataMismatch" not in result.stderr
