"""The client, the Gymnasium bridge and the C simulator against a real ``meow-learner``.

These run only when ``MEOW_LEARNER_BIN`` names a built learner; otherwise they are skipped with
that reason, visibly. The learner is started once per module as

    $MEOW_LEARNER_BIN <MEOW_LEARNER_ARGS>

where ``MEOW_LEARNER_ARGS`` (default below) may use ``{url}``, ``{token}`` and ``{run_dir}``; it
must make the learner serve simulators for Pendulum-v1 on ``{url}`` with auth token ``{token}``.
"""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

LEARNER = os.environ.get("MEOW_LEARNER_BIN")
DEFAULT_ARGS = "--listen {url} --env Pendulum-v1 --token {token} --run-dir {run_dir}"
TOKEN = "meow-real-learner-test"

pytestmark = pytest.mark.skipif(
    not LEARNER, reason="MEOW_LEARNER_BIN is not set: point it at a built meow-learner to run these")

gymnasium = pytest.importorskip("gymnasium", reason="gymnasium is in requirements-dev.txt; install it")

import meow_client  # noqa: E402
from meow_client import gym as bridge  # noqa: E402
from fake_learner import free_tcp_url  # noqa: E402

C_SOURCE = Path(__file__).resolve().parents[2] / "examples" / "c" / "sim.c"


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """A running learner's URL; its log is printed when a test fails to connect."""
    run_dir = tmp_path_factory.mktemp("learner")
    url = free_tcp_url()
    template = os.environ.get("MEOW_LEARNER_ARGS", DEFAULT_ARGS)
    args = [a.format(url=url, token=TOKEN, run_dir=run_dir) for a in shlex.split(template)]
    log = open(run_dir / "learner.log", "w")
    proc = subprocess.Popen([LEARNER, *args], stdout=log, stderr=subprocess.STDOUT)
    try:
        # connect() dials in the background and waits for WELCOME: that is the readiness check.
        env = gymnasium.make("Pendulum-v1")
        try:
            meow_client.connect(url, TOKEN, observation_space=env.observation_space,
                                action_space=env.action_space, timeout=30).close()
        except meow_client.MeowError as e:
            pytest.fail(f"learner did not welcome a simulator: {e}\n{(run_dir / 'learner.log').read_text()}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def pendulum():
    return gymnasium.make("Pendulum-v1")


def test_client_runs_an_episode(learner):
    env = pendulum()
    with meow_client.connect(learner, TOKEN, observation_space=env.observation_space,
                             action_space=env.action_space, env_id="Pendulum-v1") as client:
        obs, _ = env.reset(seed=3)
        eid = client.start_episode(obs, seed=3)
        for _ in range(30):
            action = client.get_action(eid, obs)
            assert action.shape == (1,) and np.all(np.abs(action) <= 1)
            obs, reward, terminated, truncated, _ = env.step(meow_client.rescale_action(action, env.action_space))
            client.log_step(eid, reward, terminated, truncated, obs)
        summary = client.end_episode(eid)
        assert summary.length == 30 and summary.truncated


def test_space_mismatch_is_refused(learner):
    with pytest.raises(meow_client.SpaceMismatch):
        meow_client.connect(learner, TOKEN, observation_space=gymnasium.spaces.Box(-1, 1, (5,)),
                            action_space=pendulum().action_space)


def test_wrong_token_is_refused(learner):
    env = pendulum()
    with pytest.raises(meow_client.AuthFailed):
        meow_client.connect(learner, "not-the-token", observation_space=env.observation_space,
                            action_space=env.action_space)


def test_gym_bridge_runs_steps(learner):
    report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", learner, "--token", TOKEN,
                                           "--steps", "300", "--num-envs", "2", "--quiet"]))
    assert report.steps == 300 and not report.interrupted


def test_c_simulator_runs_episodes(learner, tmp_path):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc) on PATH")
    sim = tmp_path / "sim"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", str(C_SOURCE), "-lnng", "-o", str(sim)],
                   check=True)
    run = subprocess.run([str(sim), learner, "2", "0", TOKEN], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "done: 2 episodes" in run.stdout
