"""protocol/examples/c/sim.c: builds with the documented command and runs against the fake learner."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from meow_client import wire
from fake_learner import FakeLearner

SOURCE = Path(__file__).resolve().parents[2] / "examples" / "c" / "sim.c"
PENDULUM_OBS = wire.Space((3,), np.array([-1, -1, -8], np.float32), np.array([1, 1, 8], np.float32))
PENDULUM_ACT = wire.Space((1,), np.array([-2], np.float32), np.array([2], np.float32))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """The simulator, compiled exactly as its README says (warnings are errors)."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) on PATH")
    out = tmp_path_factory.mktemp("c-sim") / "sim"
    build = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", str(SOURCE), "-lnng", "-o", str(out)],
                           capture_output=True, text=True)
    if build.returncode != 0 and "nng/nng.h" in build.stderr:
        pytest.skip("libnng-dev is not installed")
    assert build.returncode == 0, build.stderr
    return out


def pendulum_step(obs, action):
    """Gymnasium Pendulum-v1's step from an observation (cos, sin, theta_dot) and a normalised action."""
    cos, sin, theta_dot = (float(v) for v in obs)
    theta = np.arctan2(sin, cos)
    u = float(np.clip(2.0 * action, -2.0, 2.0))
    cost = theta ** 2 + 0.1 * theta_dot ** 2 + 0.001 * u ** 2
    new_dot = np.clip(theta_dot + (3 * 10.0 / 2 * np.sin(theta) + 3.0 * u) * 0.05, -8, 8)
    new_theta = theta + new_dot * 0.05
    return np.array([np.cos(new_theta), np.sin(new_theta), new_dot]), -cost


def test_c_simulator_completes_episodes_with_well_formed_frames(sim):
    with FakeLearner(observation_space=PENDULUM_OBS, action_space=PENDULUM_ACT) as learner:
        run = subprocess.run([str(sim), learner.url, "3", "40"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert "done: 3 episodes" in run.stdout
    # Every frame decoded with the reference codec, and the rows followed the row rules.
    assert learner.decode_errors == [] and learner.violations == []
    hello = learner.hellos[0]
    assert (hello.role, hello.client_name, hello.env_id) == (wire.Role.SIMULATOR, "meow-c-sim", "Pendulum-v1")
    assert [g.reason for g in learner.goodbyes] == [wire.GoodbyeReason.DONE]
    assert [(r["seed"], r["length"]) for r in learner.stats_rows] == [(40, 200), (41, 200), (42, 200)]
    assert len(set(learner.ended)) == 3 and learner.running() == 0
    for row in learner.stats_rows:
        mine = [t for t in learner.transitions if t.episode_id == row["episode_id"]]
        assert [t.done_flags for t in mine] == [0] * 199 + [wire.TRUNCATED]
        assert row["episode_return"] == pytest.approx(sum(t.reward for t in mine), rel=1e-5)
        # Each transition is one Pendulum step with the torque rescaled from the learner's action.
        for t in mine:
            expected_obs, expected_reward = pendulum_step(t.observation, t.action[0])
            np.testing.assert_allclose(t.next_observation, expected_obs, atol=2e-4)
            assert t.reward == pytest.approx(expected_reward, rel=1e-4, abs=1e-4)
    # END of one episode and START of the next share a request.
    assert sum(1 for r in learner.messages(wire.ActionRequest) if r.events.tolist() == [2, 0]) == 2


def test_c_simulator_reports_a_refusal(sim):
    with FakeLearner(token=b"right") as learner:
        run = subprocess.run([str(sim), learner.url, "1", "0", "wrong"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert f"code {int(wire.ErrorCode.AUTH_FAILED)}" in run.stderr and "token" in run.stderr


def test_c_simulator_space_mismatch_is_refused(sim):
    other = wire.Space.box((4,), -1.0, 1.0)
    with FakeLearner(observation_space=other) as learner:
        run = subprocess.run([str(sim), learner.url, "1"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and f"code {int(wire.ErrorCode.SPACE_MISMATCH)}" in run.stderr
