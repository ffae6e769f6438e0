"""The client, the Gymnasium bridge and the C simulator against a real ``meow-learner``.

These run only when ``MEOW_LEARNER_BIN`` names a built learner; otherwise they are skipped with
that reason, visibly (``make test`` sets it to the debug build). The learner is started once per
module as

    $MEOW_LEARNER_BIN <MEOW_LEARNER_ARGS>

where ``MEOW_LEARNER_ARGS`` (default below) may use ``{url}``, ``{token}`` and ``{run_dir}``; it
must make the learner serve simulators for Pendulum-v1 on ``{url}`` with auth token ``{token}``,
and write its counters to ``{run_dir}/learner-stats.json``. The default budget is tiny (64
transitions before the first update, batches of 16, one update per 8 steps, a narrow flow) so
that a debug build trains during the tests. The gateway test runs ``meow-actor`` from the same
directory as the learner (or ``MEOW_ACTOR_BIN``).
"""

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

LEARNER = os.environ.get("MEOW_LEARNER_BIN")
DEFAULT_ARGS = ("--listen {url} --env Pendulum-v1 --token {token} --run-dir {run_dir} --learning-starts 64 "
                "--batch-size 16 --buffer-size 20000 --samples-per-insert 2 --flow-hidden 32 --shift-hidden 32 --eval-every 0 "
                "--quiet")
TOKEN = "meow-real-learner-test"

pytestmark = pytest.mark.skipif(
    not LEARNER, reason="MEOW_LEARNER_BIN is not set: point it at a built meow-learner to run these")

gymnasium = pytest.importorskip("gymnasium", reason="gymnasium is in requirements-dev.txt; install it")

import meow_client  # noqa: E402
from meow_client import gym as bridge  # noqa: E402
from fake_learner import free_tcp_url  # noqa: E402

C_SOURCE = Path(__file__).resolve().parents[2] / "examples" / "c" / "sim.c"


class Learner:
    """A running learner: its URL and its run directory (counters, log)."""

    def __init__(self, url: str, run_dir: Path):
        self.url = url
        self.run_dir = run_dir

    def stats(self) -> dict:
        """The learner's counters (learner-stats.json, rewritten every stats interval)."""
        for _ in range(300):
            try:
                return json.loads((self.run_dir / "learner-stats.json").read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.1)
        raise AssertionError(f"no learner-stats.json in {self.run_dir}")

    def wait_for(self, predicate, timeout=60.0) -> dict:
        """The counters once ``predicate(stats)`` holds (the file lags by one stats interval)."""
        deadline = time.monotonic() + timeout
        stats = self.stats()
        while not predicate(stats):
            if time.monotonic() > deadline:
                raise AssertionError(f"learner counters never satisfied the check: {json.dumps(stats)[:2000]}")
            time.sleep(0.2)
            stats = self.stats()
        return stats

    def settled(self) -> dict:
        """The counters once two stats files in a row agree on the env steps (earlier tests done)."""
        previous = self.stats()
        for _ in range(30):
            time.sleep(1.1)  # the file is rewritten every second
            current = self.stats()
            if current["env_steps"] == previous["env_steps"]:
                return current
            previous = current
        raise AssertionError("the learner's env steps never settled")

    def log(self) -> str:
        return (self.run_dir / "learner.log").read_text(errors="replace")


def start(binary, args, log_path):
    log = open(log_path, "w")
    return subprocess.Popen([binary, *args], stdout=log, stderr=subprocess.STDOUT), log


def stop(proc, log):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def wait_for_welcome(url, token, what, log_path):
    """connect() dials in the background and waits for WELCOME: that is the readiness check."""
    env = gymnasium.make("Pendulum-v1")
    try:
        meow_client.connect(url, token, observation_space=env.observation_space,
                            action_space=env.action_space, timeout=30).close()
    except meow_client.MeowError as e:
        pytest.fail(f"{what} did not welcome a simulator: {e}\n{Path(log_path).read_text()}")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """A running learner; its log is printed when a test fails to connect."""
    run_dir = tmp_path_factory.mktemp("learner")
    url = free_tcp_url()
    template = os.environ.get("MEOW_LEARNER_ARGS", DEFAULT_ARGS)
    args = [a.format(url=url, token=TOKEN, run_dir=run_dir) for a in shlex.split(template)]
    proc, log = start(LEARNER, args, run_dir / "learner.log")
    try:
        wait_for_welcome(url, TOKEN, "the learner", run_dir / "learner.log")
        yield Learner(url, run_dir)
    finally:
        stop(proc, log)


@pytest.fixture(scope="module")
def learner(real):
    """The running learner's URL."""
    return real.url


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


def test_unreachable_learner_is_reported():
    env = pendulum()
    with pytest.raises(meow_client.LearnerUnreachable):
        meow_client.connect(free_tcp_url(), TOKEN, observation_space=env.observation_space,
                            action_space=env.action_space, timeout=0.5)


def test_gym_bridge_trains_the_learner(real):
    before = real.settled()
    report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", real.url, "--token", TOKEN,
                                           "--steps", "300", "--num-envs", "2", "--quiet"]))
    assert report.steps == 300 and not report.interrupted
    # Every step but the last of each running episode completed a transition the learner queued
    # for replay, and it trained on them (64 transitions of warm-up, then one update per 8).
    # env_steps counts transitions once accepted; replay_size once the training thread moved them in.
    stats = real.wait_for(lambda s: s["env_steps"] - before["env_steps"] >= 298 and s["updates"] > 0
                          and s["replay_size"] >= 298)
    sims = stats["simulators"]
    assert sims["transitions"] - before["simulators"]["transitions"] >= 298
    assert sims["rows"] >= 300 and sims["errors"] == 0
    assert stats["policy_version"] > 0 and stats["replay_size"] >= 298
    # With a trained policy the replies come from it, not from the warm-up's uniform actions.
    assert sims["policy_version"] > 0 and sims["inference_rows"] > 0


def test_async_vector_env_hands_over_every_step_across_autoresets(real):
    before = real.settled()
    report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", real.url, "--token", TOKEN,
                                           "--episodes", "3", "--num-envs", "2", "--vector", "async",
                                           "--seed", "11", "--quiet"]))
    assert (report.episodes, report.steps, report.interrupted) == (3, 600, False)
    # Three whole episodes, the third started in the request that ended the first: the learner
    # made exactly one transition of each step, none lost at the autoreset and none invented.
    stats = real.wait_for(lambda s: s["simulators"]["transitions"] - before["simulators"]["transitions"] >= 600)
    assert stats["simulators"]["transitions"] - before["simulators"]["transitions"] == 600
    assert stats["env_steps"] - before["env_steps"] == 600
    assert stats["simulators"]["errors"] == before["simulators"]["errors"]


def test_deterministic_episodes_stay_out_of_replay(real):
    before = real.settled()
    report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", real.url, "--token", TOKEN,
                                           "--episodes", "1", "--deterministic", "--seed", "7", "--quiet"]))
    assert (report.episodes, report.steps) == (1, 200)
    stats = real.wait_for(lambda s: s["simulators"]["evaluation_episodes"] > before["simulators"]["evaluation_episodes"])
    assert stats["simulators"]["transitions"] == before["simulators"]["transitions"]
    assert stats["env_steps"] == before["env_steps"]
    assert stats["simulators"]["last_evaluation_return"] == pytest.approx(report.returns[0], rel=1e-6)


def test_values_are_granted_and_finite(learner):
    env = pendulum()
    with meow_client.connect(learner, TOKEN, observation_space=env.observation_space,
                             action_space=env.action_space) as client:
        obs, _ = env.reset(seed=5)
        ids = [client.start_episode(obs), client.start_episode(obs)]
        actions, values = client.get_actions(ids, with_values=True)
        assert actions.shape == (2, 1) and values.shape == (2,) and np.all(np.isfinite(values))
        for eid in ids:
            client.end_episode(eid, send_stats=False)


def test_gateway_serves_simulators_and_uploads_to_the_learner(real, tmp_path):
    actor = os.environ.get("MEOW_ACTOR_BIN") or str(Path(LEARNER).with_name("meow-actor"))
    if not Path(actor).exists():
        pytest.fail(f"no meow-actor next to the learner ({actor}); set MEOW_ACTOR_BIN")
    url = free_tcp_url()
    proc, log = start(actor, ["--gateway-listen", url, "--connect", real.url, "--token", TOKEN,
                              "--actor-id", "7", "--batch-size", "16", "--quiet",
                              "--flow-hidden", "32", "--shift-hidden", "32"], tmp_path / "gateway.log")
    try:
        wait_for_welcome(url, TOKEN, "the gateway", tmp_path / "gateway.log")
        env = pendulum()
        with pytest.raises(meow_client.AuthFailed):
            meow_client.connect(url, "wrong", observation_space=env.observation_space,
                                action_space=env.action_space)
        before = real.stats()
        report = bridge.run(bridge.parse_args(["--env", "Pendulum-v1", "--connect", url, "--token", TOKEN,
                                               "--steps", "200", "--num-envs", "2", "--quiet"]))
        assert report.steps == 200 and not report.interrupted
        # The gateway uploads what its simulators did as actor 7's TRANSITIONS batches.
        stats = real.wait_for(lambda s: s["actors"].get("7", {}).get("transitions", 0) >= 198, timeout=60)
        assert stats["env_steps"] - before["env_steps"] >= 198
    except BaseException:
        print((tmp_path / "gateway.log").read_text(errors="replace"))
        raise
    finally:
        stop(proc, log)


def test_weights_carry_the_tensors_the_spec_lists(real):
    """PROTOCOL.md 5.12's table of the reference learner's tensors, in order, with their shapes
    (this learner: d_o 3, d_a 1, h = s = 32, k = 4 couplings, two shift heads)."""
    import pynng
    from meow_client import wire

    d_o, d_a, h, s, k = 3, 1, 32, 32, 4

    def mlp(prefix, sizes, norm):
        out = []
        for layer in range(len(sizes) - 2):
            out += [(f"{prefix}.layer{layer}.weight", (sizes[layer + 1], sizes[layer])),
                    (f"{prefix}.layer{layer}.bias", (sizes[layer + 1],))]
            if norm:
                out += [(f"{prefix}.layer{layer}.norm.gamma", (sizes[layer + 1],)),
                        (f"{prefix}.layer{layer}.norm.beta", (sizes[layer + 1],))]
            out += [(f"{prefix}.layer{layer}.swish.beta", (sizes[layer + 1],))]
        last = len(sizes) - 2
        return out + [(f"{prefix}.layer{last}.weight", (sizes[-1], sizes[-2])), (f"{prefix}.layer{last}.bias", (sizes[-1],))]

    expected = mlp("log_sigma_net", [d_o, h, h, d_a], False)
    for i in range(1, k + 1):
        expected += mlp(f"coupling{i}", [d_a + d_o, h, h, d_a], True)
    for j in (1, 2):
        expected += mlp(f"reward_shift{j}", [d_o, s, s, 1], False)

    env = pendulum()
    space = lambda box: wire.Space(box.shape, box.low.astype(np.float32), box.high.astype(np.float32))  # noqa: E731
    sock = pynng.Req0(dial=real.url, recv_timeout=10000, send_timeout=10000)
    try:
        def call(message):
            sock.send(wire.encode(wire.Frame(message, request_id=1)))
            return wire.decode(sock.recv_msg().bytes).message
        hello = wire.Hello(wire.Role.OBSERVER, (1, 0), (1, 0), 0, 0, 5, "pytest", "0", TOKEN.encode(), "",
                           space(env.observation_space), space(env.action_space))
        assert isinstance(call(hello), wire.Welcome)
        deadline = time.monotonic() + 30
        while not isinstance(chunk := call(wire.WeightsRequest(0, 0, 0, False)), wire.Weights):
            assert time.monotonic() < deadline, chunk
            time.sleep(0.2)
    finally:
        sock.close()
    assert [(t.name, tuple(t.shape)) for t in chunk.tensors] == expected
    assert all(t.dtype == wire.DType.FLOAT32 for t in chunk.tensors)
    offsets = [t.offset for t in chunk.tensors]
    sizes = [4 * int(np.prod(t.shape)) for t in chunk.tensors]
    assert offsets[0] == 0 and all(a + n == b for a, n, b in zip(offsets, sizes, offsets[1:]))
    assert offsets[-1] + sizes[-1] == chunk.total_bytes


def test_gateway_holds_simulators_to_their_sessions(real, tmp_path):
    """PROTOCOL.md 3.1 on the gateway's simulator side: no HELLO, no service; a simulator's
    session serves only what the "Sent by" column lets a simulator send, with its own ids."""
    import pynng
    from meow_client import wire

    actor = os.environ.get("MEOW_ACTOR_BIN") or str(Path(LEARNER).with_name("meow-actor"))
    url = free_tcp_url()
    proc, log = start(actor, ["--gateway-listen", url, "--connect", real.url, "--token", TOKEN,
                              "--actor-id", "8", "--quiet", "--flow-hidden", "32", "--shift-hidden", "32"],
                      tmp_path / "gateway.log")
    sock = pynng.Req0(dial=url, recv_timeout=10000, send_timeout=10000)

    def call(message):
        sock.send(wire.encode(wire.Frame(message, request_id=1)))
        return wire.decode(sock.recv_msg().bytes).message

    def code(reply):
        return reply.code if isinstance(reply, (wire.Error, wire.Refused)) else type(reply).__name__

    env = pendulum()
    space = lambda box: wire.Space(box.shape, box.low.astype(np.float32), box.high.astype(np.float32))  # noqa: E731
    stats = wire.EpisodeStats(0, 99, np.zeros(1, np.uint64), np.zeros(1, np.uint64), np.ones(1), np.ones(1),
                              np.ones(1, np.uint32))
    try:
        wait_for_welcome(url, TOKEN, "the gateway", tmp_path / "gateway.log")
        assert code(call(wire.Goodbye(wire.GoodbyeReason.DONE))) == wire.ErrorCode.NOT_WELCOME
        assert code(call(stats)) == wire.ErrorCode.NOT_WELCOME
        hello = wire.Hello(wire.Role.SIMULATOR, (1, 0), (1, 0), 0, 0, 99, "pytest", "0", TOKEN.encode(),
                           "Pendulum-v1", space(env.observation_space), space(env.action_space))
        assert isinstance(call(hello), wire.Welcome)
        assert code(call(wire.WeightsRequest(0, 0, 0, False))) == wire.ErrorCode.UNEXPECTED_MESSAGE
        stats.actor_id = 5
        assert code(call(stats)) == wire.ErrorCode.NOT_WELCOME
        stats.actor_id = 0
        assert isinstance(call(stats), wire.Ack)
        assert isinstance(call(wire.Goodbye(wire.GoodbyeReason.DONE)), wire.Ack)
        assert code(call(stats)) == wire.ErrorCode.NOT_WELCOME
    except BaseException:
        print((tmp_path / "gateway.log").read_text(errors="replace"))
        raise
    finally:
        sock.close()
        stop(proc, log)


def test_c_simulator_runs_episodes(learner, tmp_path):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc) on PATH")
    sim = tmp_path / "sim"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", str(C_SOURCE), "-lnng", "-o", str(sim)],
                   check=True)
    run = subprocess.run([str(sim), learner, "2", "0", TOKEN], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "done: 2 episodes" in run.stdout
