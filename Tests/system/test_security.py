"""The token rules of meow-learner and meow-actor: no listener beyond loopback
without a token, no empty token from any source, and the token never written
to a log, a stats file, the run directory or /metrics.
"""

import os
import signal
import urllib.request

import pytest

from conftest import free_port, stop, wait_for
from peer import Peer

TOKEN = "9f3c1b7e-token-that-must-never-be-printed-5a2d"
WRONG = "0a1b2c-wrong-token-a-client-sent-7e8f"


def clean_environment(**extra):
    """The test's environment without an inherited MEOW_TOKEN, plus `extra`."""
    return {key: value for key, value in os.environ.items() if key != "MEOW_TOKEN"} | extra


# MARK: - Listening beyond loopback

@pytest.mark.parametrize("host", ["0.0.0.0", "[::]", "", "*", "learner.example.org"])
def test_non_loopback_listener_without_a_token_exits_with_a_clear_message(cluster, host):
    for scheme in ("tcp", "tls+tcp"):
        name = f"learner-{scheme}"
        learner = cluster.learner("--listen", f"{scheme}://{host}:{cluster.port}", "--steps", "1000",
                                  name=name, env=clean_environment())
        assert learner.wait(timeout=30) != 0, cluster.log(name)
        log = cluster.log(name)
        assert "--token" in log and "loopback" in log, log
        assert "learner: listening on" not in log, log


def test_loopback_listener_needs_no_token(cluster):
    learner = cluster.learner("--listen", f"tcp://localhost:{cluster.port}", "--steps", "1000000",
                              env=clean_environment())
    peer = Peer(cluster.url)
    try:
        welcome = wait_for(lambda: _try_hello(peer), 30, "the learner to answer HELLO")
        assert type(welcome).__name__ == "Welcome"
    finally:
        peer.close()
    assert stop(learner) == 0


# MARK: - Empty tokens

def _token_sources(tmp_path):
    """Ways to give an empty token: (command-line flags, extra environment)."""
    empty = tmp_path / "empty-token"
    empty.write_text("")
    blank_first_line = tmp_path / "blank-first-line"
    blank_first_line.write_text("\nthe-second-line-is-not-the-token\n")
    return {
        "flag": (["--token", ""], {}),
        "empty file": (["--token-file", str(empty)], {}),
        "blank first line": (["--token-file", str(blank_first_line)], {}),
        "environment": ([], {"MEOW_TOKEN": ""}),
    }


@pytest.mark.parametrize("source", ["flag", "empty file", "blank first line", "environment"])
def test_empty_token_is_refused_by_learner_and_actor(cluster, tmp_path, source):
    flags, extra = _token_sources(tmp_path)[source]
    env = clean_environment(**extra)
    learner = cluster.learner("--steps", "1000", *flags, env=env)
    assert learner.wait(timeout=30) != 0
    assert "empty" in cluster.log("learner"), cluster.log("learner")
    actor = cluster.actor(0, *flags, env=env)
    assert actor.wait(timeout=30) != 0
    assert "empty" in cluster.log("actor0"), cluster.log("actor0")


# MARK: - The token stays secret

def test_token_never_appears_in_logs_stats_run_directory_or_metrics(cluster, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    metrics_port = free_port()
    # The learner takes the token from the environment; one actor from a file, one from the flag.
    # Loopback: a token given there is enforced too, and nothing is exposed beyond this machine.
    learner = cluster.learner("--steps", "1000000", "--samples-per-insert", "1",
                              "--metrics-listen", str(metrics_port), env=clean_environment(MEOW_TOKEN=TOKEN))
    actors = [cluster.actor(0, "--token-file", str(token_file), env=clean_environment()),
              cluster.actor(1, "--token", TOKEN, env=clean_environment())]
    intruder = cluster.actor(2, "--token", WRONG, env=clean_environment())
    peer = Peer(cluster.url, actor_id=3, token=WRONG.encode())
    try:
        refused = wait_for(lambda: _try_hello(peer), 30, "the learner to answer HELLO")
        assert type(refused).__name__ == "Refused"
    finally:
        peer.close()

    def both_trained():
        stats = cluster.learner_stats() or {}
        return all(stats.get("actors", {}).get(str(i), {}).get("transitions", 0) >= 32 for i in range(2))
    wait_for(both_trained, 60, "transitions from both actors")
    assert intruder.wait(timeout=30) != 0
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    assert "meow_env_steps_total" in metrics
    for actor in actors:
        actor.send_signal(signal.SIGTERM)  # both drain at once (a second signal would kill them)
    for index, actor in enumerate(actors):
        assert actor.wait(timeout=40) == 0, cluster.log(f"actor{index}")
    assert stop(learner, timeout=40) == 0, cluster.log("learner")

    files = [path for path in cluster.tmp.rglob("*") if path.is_file() and path != token_file]
    assert {"learner.log", "actor0.log", "actor0.json", "segment-000000000001.wal", "learner-stats.json",
            "config.json"} <= {path.name for path in files}
    for secret in (TOKEN, WRONG):
        assert secret not in metrics
        leaks = [str(path) for path in files if secret.encode() in path.read_bytes()]
        assert not leaks, f"{secret} written to {leaks}"


def _try_hello(peer):
    try:
        return peer.hello()
    except Exception:
        return None
