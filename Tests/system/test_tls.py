"""meow-learner and meow-actor over tls+tcp:// on loopback, with a throwaway CA
from deploy/tls/make-test-certs: an actor that trusts the CA trains; an actor
with another CA or another server name, and a plain-TCP client, never get a
batch in, and the learner keeps serving.
"""

import shutil
import subprocess
import time

import pynng
import pytest

from conftest import ROOT, stop, wait_for
from peer import Peer

MAKE_CERTS = ROOT / "deploy" / "tls" / "make-test-certs"


def make_certs(directory, *names):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian package openssl)")
    result = subprocess.run([str(MAKE_CERTS), str(directory), *names], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("tls") / "learner", "localhost")


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A second CA that also signed a certificate for localhost: trusting it must not be enough."""
    return make_certs(tmp_path_factory.mktemp("tls") / "other", "localhost")


def plain_tcp_hello(port):
    """What a HELLO over plain TCP to the TLS listener gets: the error that ended it, or the reply."""
    try:
        peer = Peer(f"tcp://localhost:{port}")
    except pynng.NNGException as error:
        return error  # the learner closed the connection in the TLS handshake
    try:
        peer.socket.recv_timeout = 2000
        return peer.hello()
    except pynng.NNGException as error:
        return error
    finally:
        peer.close()


def transitions(stats, actor_id):
    entry = (stats or {}).get("actors", {}).get(str(actor_id))
    return entry["transitions"] if entry else 0


# MARK: - Training over TLS

def test_actor_trains_over_tls_and_untrusted_peers_get_nothing_in(cluster, certs, other_ca):
    url = f"tls+tcp://localhost:{cluster.port}"
    learner = cluster.learner("--listen", url, "--tls-cert", str(certs / "server.crt"),
                              "--tls-key", str(certs / "server.key"),
                              "--steps", "1000000", "--samples-per-insert", "1")
    trusted = cluster.actor(0, "--connect", url, "--tls-ca", str(certs / "ca.crt"), "--tls-server-name", "localhost")
    wait_for(lambda: transitions(cluster.learner_stats(), 0) >= 64, 45, "transitions from the actor over TLS")

    # The same certificate checked against another CA, and the right CA but another name.
    untrusted = [
        cluster.actor(1, "--connect", url, "--tls-ca", str(other_ca / "ca.crt"), "--tls-server-name", "localhost"),
        cluster.actor(2, "--connect", url, "--tls-ca", str(certs / "ca.crt"), "--tls-server-name", "learner.example.org"),
    ]
    plain_actor = cluster.actor(3, "--connect", f"tcp://localhost:{cluster.port}")
    untrusted.append(plain_actor)
    answer = plain_tcp_hello(cluster.port)
    assert isinstance(answer, pynng.NNGException), f"a plain-TCP HELLO got {answer!r}"

    # Proving a negative needs a window: once both have started dialling, give them 3 s (their
    # backoff starts at 100 ms, so several handshakes each) while the trusted actor keeps training.
    for index in (1, 2, 3):
        wait_for(lambda: "cannot reach the learner" in cluster.log(f"actor{index}"), 30, f"actor {index} to fail")
    before = transitions(cluster.learner_stats(), 0)
    time.sleep(3)
    wait_for(lambda: transitions(cluster.learner_stats(), 0) >= before + 256, 30, "more transitions over TLS")
    stats = wait_for(cluster.learner_stats, 5, "the learner's stats")
    assert set(stats["actors"]) == {"0"}, f"an untrusted actor got through: {sorted(stats['actors'])}"
    assert stats["updates"] > 0
    for index, actor in enumerate(untrusted, start=1):
        # Still running means still retrying the handshake, not stopped early by a usage error.
        assert actor.poll() is None, cluster.log(f"actor{index}")
        assert (cluster.actor_stats(index) or {}).get("hellos", 0) == 0
    assert learner.poll() is None, cluster.log("learner")

    # Each failing side says why, once and then rate-limited: the certificate checks, and the plain dial.
    for index in (1, 2):
        log = cluster.log(f"actor{index}")
        assert "the TLS handshake failed: the certificate was rejected" in log, log
        assert "--tls-ca" in log and "--tls-server-name" in log, log
        lines = [line for line in log.splitlines() if "cannot reach the learner" in line]
        assert all("failed requests since the last report" in line for line in lines[1:]), log
    assert "the connection closed during the handshake" in cluster.log("actor3"), cluster.log("actor3")
    # The learner sees only that handshakes failed, and who did connect.
    learner_log = cluster.log("learner")
    assert "failed the TLS handshake" in learner_log, learner_log
    assert "TLS peer connected from 127.0.0.1:" in learner_log, learner_log

    assert stop(trusted) == 0, cluster.log("actor0")
    assert (cluster.actor_stats(0) or {}).get("batches_acked", 0) > 0
    assert stop(learner) == 0, cluster.log("learner")


# MARK: - An IP literal needs a server name


@pytest.mark.parametrize("mode", ["actor", "gateway"])
def test_dialling_an_ip_literal_over_tls_needs_a_server_name(cluster, certs, bin_dir, mode):
    url = f"tls+tcp://127.0.0.1:{cluster.port}"
    gateway = ["--gateway-listen", f"tcp://127.0.0.1:{cluster.port + 1}"] if mode == "gateway" else []
    refused = subprocess.run([str(bin_dir / "meow-actor"), "--connect", url, "--tls-ca", str(certs / "ca.crt"),
                              *gateway], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 64, refused.stderr
    assert "--tls-server-name" in refused.stderr and "IP address" in refused.stderr, refused.stderr

    if mode == "gateway":
        return
    # With the name the certificate carries, the same IP literal is checked and works.
    learner = cluster.learner("--listen", url, "--tls-cert", str(certs / "server.crt"),
                              "--tls-key", str(certs / "server.key"), "--steps", "1000000")
    actor = cluster.actor(0, "--connect", url, "--tls-ca", str(certs / "ca.crt"), "--tls-server-name", "localhost")
    wait_for(lambda: transitions(cluster.learner_stats(), 0) >= 64, 45, "transitions over TLS to an IP literal")
    assert stop(actor) == 0, cluster.log("actor0")
    assert stop(learner) == 0, cluster.log("learner")
