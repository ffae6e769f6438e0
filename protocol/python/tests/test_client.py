"""meow_client.connect and the episode calls against the fake learner (tests/fake_learner.py)."""

import shutil
import subprocess
import time

import numpy as np
import pytest

import meow_client
from meow_client import wire
from fake_learner import FakeLearner, default_policy, free_tcp_url


class Box:
    """The three attributes a Gymnasium Box has that the client reads, without Gymnasium."""

    def __init__(self, low, high, shape):
        self.low, self.high, self.shape = low, high, shape


OBS = Box(-np.inf, np.inf, (3,))
ACT = Box(-2.0, 2.0, (2,))


def connect(learner, **kw):
    kw.setdefault("observation_space", OBS)
    kw.setdefault("action_space", ACT)
    kw.setdefault("timeout", 2.0)
    return meow_client.connect(learner.url, **kw)


def expected_action(obs, deterministic=False):
    return default_policy(np.asarray(obs, np.float32), 2, deterministic)


# MARK: connecting


def test_hello_says_simulator_with_spaces_and_flt_max_bounds():
    with FakeLearner() as learner, connect(learner, token="s3cret", name="tester", env_id="Point-v0") as client:
        hello = learner.hellos[0]
        assert hello.role == wire.Role.SIMULATOR
        assert (hello.min_version, hello.max_version) == ((1, 0), (1, 0))
        assert hello.auth_token == b"s3cret" and hello.client_name == "tester" and hello.env_id == "Point-v0"
        assert hello.run_id == client.run_id and hello.actor_id == 0
        # Infinite bounds travel as -FLT_MAX / +FLT_MAX (PROTOCOL.md section 4.1).
        assert np.all(hello.observation_space.low == -wire.FLT_MAX)
        assert np.all(hello.observation_space.high == wire.FLT_MAX)
        assert hello.action_space.shape == (2,) and np.all(hello.action_space.high == 2.0)
        assert client.welcome.preset == "fake"
        assert client.policy_version == learner.policy_version


def test_close_says_goodbye_and_context_manager_closes():
    with FakeLearner() as learner:
        with connect(learner):
            pass
        assert [g.reason for g in learner.goodbyes] == [wire.GoodbyeReason.DONE]
        client = connect(learner)
        client.close()
        client.close()  # idempotent
        assert len(learner.goodbyes) == 2
        with pytest.raises(meow_client.MeowError, match="closed"):
            client.start_episode(np.zeros(3))


def test_unreachable_learner_raises_after_the_timeout_with_the_url():
    url = free_tcp_url()
    began = time.monotonic()
    with pytest.raises(meow_client.LearnerUnreachable) as info:
        meow_client.connect(url, observation_space=OBS, action_space=ACT, timeout=0.3)
    waited = time.monotonic() - began
    assert url in str(info.value) and "0.3 s" in str(info.value)
    assert 0.25 <= waited < 3.0


def test_tls_connection_verifies_the_learner_certificate(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = free_tcp_url().rsplit(":", 1)[1]
    url = f"tls+tcp://localhost:{port}"
    with FakeLearner(url, tls=(cert.read_text(), key.read_text())) as learner:
        with connect(learner, tls_ca=str(cert), tls_server_name="localhost") as client:
            client.end_episode(client.start_episode(np.zeros(3)))
        assert len(learner.stats_rows) == 1
        # A name the certificate does not carry fails verification: no WELCOME ever comes.
        with pytest.raises(meow_client.LearnerUnreachable):
            connect(learner, tls_ca=str(cert), tls_server_name="not-localhost", timeout=0.5)


def test_tls_to_an_ip_literal_needs_a_server_name(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", str(key), "-out", str(cert),
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    port = free_tcp_url().rsplit(":", 1)[1]
    with FakeLearner(f"tls+tcp://127.0.0.1:{port}", tls=(cert.read_text(), key.read_text())) as learner:
        # Without a name nng would check none: refused before anything is sent, saying why.
        with pytest.raises(ValueError, match="IP address over TLS: pass tls_server_name"):
            connect(learner, tls_ca=str(cert))
        with connect(learner, tls_ca=str(cert), tls_server_name="localhost") as client:
            client.end_episode(client.start_episode(np.zeros(3)))
        assert len(learner.stats_rows) == 1


def test_tls_options_need_a_tls_url():
    with FakeLearner() as learner, pytest.raises(ValueError, match="tls"):
        connect(learner, tls_ca="/nonexistent.pem")


# MARK: refusals


def test_space_mismatch_is_refused_with_advice():
    learner_space = wire.Space.box((4,), -wire.FLT_MAX, wire.FLT_MAX)
    with FakeLearner(observation_space=learner_space) as learner:
        with pytest.raises(meow_client.SpaceMismatch) as info:
            connect(learner)
    message = str(info.value)
    assert "REFUSED SPACE_MISMATCH" in message and "(3,)" in message and "same observation and action spaces" in message
    assert info.value.code == wire.ErrorCode.SPACE_MISMATCH


def test_matching_spaces_are_welcomed():
    obs = wire.Space.box((3,), -wire.FLT_MAX, wire.FLT_MAX)
    act = wire.Space.box((2,), -2.0, 2.0)
    with FakeLearner(observation_space=obs, action_space=act) as learner, connect(learner) as client:
        assert client.welcome is not None


def test_wrong_token_is_refused_with_advice():
    with FakeLearner(token=b"right") as learner:
        with pytest.raises(meow_client.AuthFailed, match="token"):
            connect(learner, token="wrong")
        with pytest.raises(meow_client.AuthFailed):
            connect(learner)
        with connect(learner, token=b"right"):
            pass


def test_no_common_version_is_refused_naming_both_ranges():
    with FakeLearner(versions=((1, 1), (1, 4))) as learner:
        with pytest.raises(meow_client.VersionMismatch) as info:
            connect(learner)
    assert "1.1 to 1.4" in str(info.value) and "1.0" in str(info.value)


def test_learner_of_another_major_is_a_version_mismatch():
    with FakeLearner(reply_major=2) as learner:
        with pytest.raises(meow_client.VersionMismatch, match="version 2.0 frame"):
            connect(learner)


# MARK: episodes


def test_one_episode_maps_onto_start_step_end_rows():
    with FakeLearner() as learner, connect(learner) as client:
        o0, o1, o2 = np.array([0.1, 0.2, 0.3]), np.array([1.0, 0.0, 0.0]), np.array([2.0, 0.5, -1.0])
        eid = client.start_episode(o0, seed=42)
        a0 = client.get_action(eid, o0)
        assert a0.shape == (2,) and a0.dtype == np.float32
        np.testing.assert_array_equal(a0, expected_action(o0))
        client.log_step(eid, 1.5, False, False, o1)
        a1 = client.get_action(eid)  # defaults to the logged next observation
        np.testing.assert_array_equal(a1, expected_action(o1))
        client.log_step(eid, -0.5, True, False, o2)
        summary = client.end_episode(eid)
        assert (summary.episode_return, summary.length, summary.seed, summary.terminated) == (1.0, 2, 42, True)
        assert learner.ended == []  # the END row waits for the next request
        client.flush()
        assert learner.ended == [eid]
        requests = learner.messages(wire.ActionRequest)
        assert [r.events.tolist() for r in requests] == [[0], [1], [2]]
        assert requests[1].prev_rewards.tolist() == [1.5] and requests[1].prev_done_flags.tolist() == [0]
        assert requests[2].prev_done_flags.tolist() == [wire.TERMINATED]
        np.testing.assert_array_equal(requests[2].observations[0], o2.astype(np.float32))
        (t0, t1) = learner.transitions
        np.testing.assert_array_equal(t0.action, a0)
        np.testing.assert_array_equal(t1.next_observation, o2.astype(np.float32))
        assert (t0.reward, t0.done_flags, t1.reward, t1.done_flags) == (1.5, 0, -0.5, wire.TERMINATED)
        assert learner.stats_rows == [dict(episode_id=eid, seed=42, episode_return=1.0,
                                           seconds=summary.seconds, length=2, run_id=client.run_id)]
        assert learner.violations == [] and learner.running() == 0


def test_one_round_trip_per_step_and_end_rides_on_the_next_start():
    with FakeLearner() as learner, connect(learner) as client:
        first = client.start_episode(np.zeros(3))
        client.get_action(first)
        client.log_step(first, 1.0, False, True, np.ones(3))
        client.end_episode(first)
        before = client.stats.round_trips
        second = client.start_episode(np.zeros(3))
        client.get_action(second)
        # One ACTION_REQUEST with END (old) + START (new), then one EPISODE_STATS.
        assert client.stats.round_trips - before == 2
        last = learner.messages(wire.ActionRequest)[-1]
        assert last.episode_ids.tolist() == [first, second] and last.events.tolist() == [2, 0]
        assert last.prev_done_flags.tolist() == [wire.TRUNCATED, 0]
        assert learner.violations == []


def test_several_concurrent_episodes_interleave():
    rng = np.random.default_rng(3)
    with FakeLearner() as learner, connect(learner) as client:
        ids = [client.start_episode(rng.normal(size=3), seed=i) for i in range(3)]
        steps = {eid: 0 for eid in ids}
        for t in range(12):
            eid = ids[t % 3]
            obs = rng.normal(size=3)
            action = client.get_action(eid, obs)
            np.testing.assert_array_equal(action, expected_action(obs))
            client.log_step(eid, 0.25, False, False, rng.normal(size=3))
            steps[eid] += 1
        for eid in ids:
            assert client.end_episode(eid).length == steps[eid]
        client.flush()
        assert sorted(learner.ended) == sorted(ids)
        # Each episode yields one transition per logged step; the last one ends truncated.
        for eid in ids:
            mine = [t for t in learner.transitions if t.episode_id == eid]
            assert [t.done_flags for t in mine] == [0] * (steps[eid] - 1) + [wire.TRUNCATED]
        assert len({int(e) for e in ids}) == 3 and learner.violations == []


def test_zero_length_episode_sends_only_its_stats():
    with FakeLearner() as learner, connect(learner) as client:
        eid = client.start_episode(np.zeros(3), seed=5)
        summary = client.end_episode(eid)
        client.flush()
        assert (summary.length, summary.episode_return) == (0, 0.0)
        assert learner.messages(wire.ActionRequest) == []
        assert [(r["episode_id"], r["length"], r["seed"]) for r in learner.stats_rows] == [(eid, 0, 5)]


def test_ending_with_an_outstanding_action_drops_it():
    with FakeLearner() as learner, connect(learner) as client:
        eid = client.start_episode(np.zeros(3))
        client.get_action(eid)
        summary = client.end_episode(eid, send_stats=False)
        client.flush()
        assert summary.length == 0 and not summary.truncated
        assert learner.dropped_actions == [eid] and learner.transitions == []
        assert learner.stats_rows == [] and learner.violations == []


def test_seedless_episode_reports_no_seed():
    with FakeLearner() as learner, connect(learner) as client:
        client.end_episode(client.start_episode(np.zeros(3)))
    assert learner.stats_rows[0]["seed"] == wire.NO_SEED


# MARK: batch calls


def test_batch_calls_put_all_episodes_in_one_request():
    with FakeLearner() as learner, connect(learner) as client:
        obs = np.arange(12, dtype=np.float64).reshape(4, 3) / 10
        ids = [client.start_episode(o, seed=10 + i) for i, o in enumerate(obs)]
        actions = client.get_actions(ids, obs, deterministic=True)
        assert actions.shape == (4, 2)
        for o, a in zip(obs, actions):
            np.testing.assert_array_equal(a, expected_action(o, deterministic=True))
        request = learner.messages(wire.ActionRequest)[-1]
        assert request.deterministic and request.events.tolist() == [0] * 4
        assert request.observations.dtype == np.float32  # float64 in, float32 on the wire
        nxt = obs + 1
        client.log_steps(ids, [1, 2, 3, 4], [False, True, False, False], [False, False, False, True], nxt)
        client.end_episode(ids[1])
        client.end_episode(ids[3])
        actions, values = client.get_actions([ids[0], ids[2]], with_values=True)
        np.testing.assert_allclose(values, nxt[[0, 2]].sum(axis=1), rtol=1e-6)
        assert actions.shape == (2, 2)
        request = learner.messages(wire.ActionRequest)[-1]
        assert request.events.tolist() == [2, 2, 1, 1] and request.want_values
        assert request.prev_done_flags.tolist() == [wire.TERMINATED, wire.TRUNCATED, 0, 0]
        assert request.prev_rewards.tolist() == [2, 4, 1, 3]
        assert learner.violations == []


def test_out_of_order_calls_raise_clear_errors():
    with FakeLearner() as learner, connect(learner) as client:
        eid = client.start_episode(np.zeros(3))
        with pytest.raises(meow_client.EpisodeStateError, match="call get_action first"):
            client.log_step(eid, 0.0, False, False, np.zeros(3))
        client.get_action(eid)
        with pytest.raises(meow_client.EpisodeStateError, match="call log_step"):
            client.get_action(eid)
        client.log_step(eid, 0.0, True, False, np.zeros(3))
        with pytest.raises(meow_client.EpisodeStateError, match="terminated"):
            client.get_action(eid)
        with pytest.raises(ValueError, match="observation space"):
            client.start_episode(np.zeros(4))
        client.end_episode(eid)
        with pytest.raises(meow_client.EpisodeStateError, match="not running"):
            client.end_episode(eid)
        assert learner.violations == []


def test_learner_restart_is_answered_by_a_new_hello():
    with FakeLearner() as learner, connect(learner) as client:
        eid = client.start_episode(np.zeros(3))
        client.get_action(eid)
        learner.forget_peers()
        client.log_step(eid, 1.0, False, False, np.ones(3))
        client.get_action(eid)  # NOT_WELCOME, HELLO, the same request again
        assert len(learner.hellos) == 2
    # The restarted learner cannot know the episode; the fake records that STEP as unknown.
    assert learner.violations == [f"STEP for unknown episode {eid}"]


def test_a_request_without_reply_leaves_only_goodbye():
    with FakeLearner() as learner:
        client = connect(learner, timeout=0.3)
        first = client.start_episode(np.zeros(3))
        client.end_episode(first)
        second = client.start_episode(np.zeros(3))
        learner.stall_actions = True
        with pytest.raises(meow_client.LearnerUnreachable, match="ACTION_REQUEST"):
            client.get_action(second)
        learner.stall_actions = False
        with pytest.raises(meow_client.MeowError, match="connect again"):
            client.get_action(second)
        client.close()
        assert learner.wait_for(lambda: learner.goodbyes)
        # The END row and stats of the first episode may have been applied already: not resent.
        assert len(learner.messages(wire.ActionRequest)) == 1 and learner.stats_rows == []


def test_rescale_action_maps_unit_interval_onto_bounds():
    np.testing.assert_allclose(meow_client.rescale_action([-1.0, 0.0, 1.0], Box([0, -2, 1], [1, 2, 3], (3,))),
                               [0.0, 0.0, 3.0])
    with pytest.raises(ValueError, match="unbounded"):
        meow_client.rescale_action([0.0], Box(-np.inf, np.inf, (1,)))
