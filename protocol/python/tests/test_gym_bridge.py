"""python -m meow_client.gym against the fake learner, with Gymnasium's Pendulum-v1."""

import json
import signal
import subprocess
import sys

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium", reason="gymnasium is in requirements-dev.txt; install it")

from meow_client import gym as bridge  # noqa: E402
from meow_client import wire  # noqa: E402
from fake_learner import FakeLearner  # noqa: E402
import countdown_env  # noqa: E402


def replay(seed, actions, scale):
    """Step a fresh Pendulum-v1 with ``scale * action``; returns (observations after each step, rewards)."""
    env = gymnasium.make("Pendulum-v1")
    env.reset(seed=seed)
    observations, rewards = [], []
    for a in actions:
        obs, reward, _terminated, _truncated, _ = env.step((scale * a).astype(np.float32))
        observations.append(obs)
        rewards.append(reward)
    env.close()
    return np.array(observations, np.float32), np.array(rewards)


# MARK: episodes


def test_pendulum_episodes_are_rescaled_truncated_with_final_obs_and_reported(tmp_path):
    with FakeLearner() as learner:
        args = bridge.parse_args(["--env", "Pendulum-v1", "--connect", learner.url, "--episodes", "3",
                                  "--num-envs", "2", "--seed", "100", "--quiet"])
        report = bridge.run(args)
    assert learner.violations == [] and learner.decode_errors == []
    assert (report.steps, report.episodes, report.interrupted) == (600, 3, False)
    assert [g.reason for g in learner.goodbyes] == [wire.GoodbyeReason.DONE]
    hello = learner.hellos[0]
    assert hello.env_id == "Pendulum-v1" and np.all(hello.action_space.high == 2.0)

    stats = sorted(learner.stats_rows, key=lambda r: r["seed"])
    assert [(r["seed"], r["length"]) for r in stats] == [(100, 200), (101, 200), (102, 200)]
    for row in stats:
        eid = row["episode_id"]
        actions = learner.replied_actions[eid]
        assert len(actions) == 200
        mine = [t for t in learner.transitions if t.episode_id == eid]
        assert [t.done_flags for t in mine] == [0] * 199 + [wire.TRUNCATED]
        # The env saw 2 * action (Pendulum's torque bound is 2): replaying that reproduces every
        # observation the learner got, the last one being the real final observation.
        observations, rewards = replay(row["seed"], actions, 2.0)
        np.testing.assert_allclose([t.next_observation for t in mine], observations, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose([t.reward for t in mine], rewards.astype(np.float32), rtol=1e-6)
        assert row["episode_return"] == pytest.approx(rewards.sum(), rel=1e-9)
        unscaled, _ = replay(row["seed"], actions, 1.0)
        assert not np.allclose(unscaled[-1], observations[-1])
    # The three episodes run on two environments, so the third START rode with an END.
    assert any(r.events.tolist().count(2) and r.events.tolist().count(0)
               for r in learner.messages(wire.ActionRequest))


def test_timing_report_accounts_for_the_wall_time():
    with FakeLearner() as learner:
        report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", learner.url,
                                               "--steps", "50", "--num-envs", "3", "--quiet"]))
    assert report.steps == 50 and report.episodes == 0
    assert report.protocol_seconds > 0 and report.env_seconds > 0
    assert report.protocol_share + report.env_share <= 1.0 + 1e-9
    assert report.steps_per_second == pytest.approx(50 / report.wall_seconds)
    assert report.round_trips >= 50 // 3
    # Episodes cut by the step budget end truncated (bootstrap) and stay out of the curves.
    assert learner.stats_rows == [] and learner.running() == 0 and learner.violations == []
    assert sum(1 for t in learner.transitions if t.done_flags == wire.TRUNCATED) == 3
    assert len(learner.transitions) == 50


# MARK: autoreset


@pytest.mark.parametrize("vector", ["sync", "async"])
def test_autoreset_ends_and_starts_episodes_in_one_request_without_losing_a_step(vector):
    with FakeLearner() as learner:
        report = bridge.run(bridge.parse_args(["--env", countdown_env.ENV_ID, "--connect", learner.url,
                                               "--episodes", "12", "--num-envs", "3", "--vector", vector,
                                               "--seed", "5", "--quiet"]))
    assert learner.violations == [] and learner.decode_errors == [] and learner.dropped_actions == []
    assert report.episodes == 12 and learner.running() == 0
    assert sorted(r["seed"] for r in learner.stats_rows) == list(range(5, 17))
    # Every step the bridge took is one transition, none more: nothing lost at an autoreset and
    # no reset step passed off as a transition.
    assert len(learner.transitions) == report.steps == sum(r["length"] for r in learner.stats_rows)
    endings = set()
    for row in learner.stats_rows:
        mine = [t for t in learner.transitions if t.episode_id == row["episode_id"]]
        steps = [int(t.next_observation[0]) for t in mine]
        budget = int(mine[0].observation[1])
        # Each episode's budget comes from its own seed: the copy was reset with it.
        assert budget == countdown_env.budget_for_seed(row["seed"])
        # The first row is a reset (0 steps taken), each transition advances by one, and only the
        # last ends: terminated when the budget is reached, truncated by the time limit (both at 5).
        assert [int(t.observation[0]) for t in mine] == list(range(len(mine)))
        assert steps == list(range(1, len(mine) + 1))
        assert len(mine) == min(budget, countdown_env.MAX_STEPS)
        flags = ((wire.TERMINATED if steps[-1] == budget else 0)
                 | (wire.TRUNCATED if len(mine) == countdown_env.MAX_STEPS else 0))
        assert [t.done_flags for t in mine] == [0] * (len(mine) - 1) + [flags]
        endings.add(flags)
        for t in mine:  # the action reached the environment rescaled, and its reward came back
            env_action = countdown_env.ACTION_BOUND * float(t.action[0])
            assert t.next_observation[2] == pytest.approx(env_action, abs=1e-5)
            assert t.reward == pytest.approx(env_action, abs=1e-5)
    assert {wire.TERMINATED, wire.TRUNCATED} <= endings
    # A finished episode's END and its successor's START ride in the same request.
    requests = learner.messages(wire.ActionRequest)
    assert any({wire.ActionEvent.END, wire.ActionEvent.START} <= set(r.events.tolist()) for r in requests)


def test_a_step_budget_smaller_than_the_copies_ends_the_surplus_first():
    with FakeLearner() as learner:
        report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", learner.url,
                                               "--steps", "5", "--num-envs", "3", "--quiet"]))
    assert report.steps == 5 and len(learner.transitions) == 5 and learner.violations == []
    assert learner.running() == 0 and learner.dropped_actions == []


# MARK: errors


def test_non_box_environment_is_refused_with_a_clear_message(capsys):
    status = bridge.main(["--env", "CartPole-v1", "--connect", "tcp://127.0.0.1:9", "--episodes", "1"])
    assert status == 1
    assert "Discrete action space; meow speaks Box spaces only" in capsys.readouterr().err


def test_unreachable_learner_exits_with_the_url(capsys):
    status = bridge.main(["--env", "Pendulum-v1", "--connect", "tcp://127.0.0.1:9", "--timeout", "0.2"])
    assert status == 1
    assert "tcp://127.0.0.1:9" in capsys.readouterr().err


def test_bad_budget_is_a_usage_error():
    with pytest.raises(SystemExit):
        bridge.parse_args(["--env", "Pendulum-v1", "--connect", "tcp://x:1", "--num-envs", "0"])


# MARK: Ctrl-C


def test_ctrl_c_says_goodbye_and_writes_the_report(tmp_path):
    report_path = tmp_path / "report.json"
    with FakeLearner() as learner:
        proc = subprocess.Popen([sys.executable, "-m", "meow_client.gym", "--env", "Pendulum-v1",
                                 "--connect", learner.url, "--episodes", "100000", "--quiet",
                                 "--report-json", str(report_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert learner.wait_for(lambda: len(learner.transitions) > 20, timeout=30), proc.stderr
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        assert learner.wait_for(lambda: learner.goodbyes, timeout=5)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert [g.reason for g in learner.goodbyes] == [wire.GoodbyeReason.SHUTTING_DOWN]
    report = json.loads(report_path.read_text())
    assert report["interrupted"] and report["steps"] > 20 and "steps/s" in stdout
    assert learner.violations == []
