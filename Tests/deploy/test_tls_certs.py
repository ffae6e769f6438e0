"""deploy/tls/make-test-certs: the certificates verify for the DNS names they
were made for, not for others or IP literals, and nng accepts them."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from deploy_support import DEPLOY, run, tool

SCRIPT = DEPLOY / "tls" / "make-test-certs"
NAMES = ["learner.example.org", "localhost"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tool("openssl", "Debian package openssl")
    directory = tmp_path_factory.mktemp("tls") / "certs"
    result = run([str(SCRIPT), str(directory), *NAMES])
    assert result.returncode == 0, result.stderr
    return directory


def openssl_verify(certs: Path, *check: str) -> bool:
    openssl = tool("openssl", "Debian package openssl")
    result = run([openssl, "verify", "-CAfile", str(certs / "ca.crt"), *check, str(certs / "server.crt")])
    return result.returncode == 0


def test_writes_ca_certificate_and_private_server_key(certs: Path) -> None:
    assert sorted(path.name for path in certs.iterdir()) == ["ca.crt", "ca.key", "server.crt", "server.key"]
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((certs / key).stat().st_mode) == 0o600


@pytest.mark.parametrize("name", NAMES)
def test_server_certificate_verifies_for_its_dns_names(certs: Path, name: str) -> None:
    assert openssl_verify(certs, "-verify_hostname", name, "-purpose", "sslserver")


@pytest.mark.parametrize("check", [["-verify_hostname", "other.example.org"], ["-verify_ip", "127.0.0.1"]])
def test_server_certificate_fails_for_other_names_and_ip_literals(certs: Path, check: list[str]) -> None:
    assert not openssl_verify(certs, *check)


def test_usage_error_without_names(tmp_path: Path) -> None:
    assert run([str(SCRIPT), str(tmp_path)]).returncode == 64


def tls_round_trip(certs: Path, server_name: str) -> bytes | None:
    """One REQ/REP exchange over tls+tcp:// on loopback, dialled as `server_name`."""
    pynng = pytest.importorskip("pynng", reason="pynng comes from requirements-dev.txt")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = pynng.TLSConfig(pynng.TLSConfig.MODE_SERVER, own_key_string=(certs / "server.key").read_text(),
                             own_cert_string=(certs / "server.crt").read_text())
    client = pynng.TLSConfig(pynng.TLSConfig.MODE_CLIENT, ca_string=(certs / "ca.crt").read_text(),
                             server_name=server_name)
    with pynng.Rep0(recv_timeout=2000, send_timeout=2000) as rep, \
            pynng.Req0(recv_timeout=1000, send_timeout=1000) as req:
        rep.tls_config = server
        rep.listen(f"tls+tcp://127.0.0.1:{port}")
        req.tls_config = client
        req.dial(f"tls+tcp://localhost:{port}", block=False)
        try:
            req.send(b"ping")
            rep.recv()
            rep.send(b"pong")
            return req.recv()
        except pynng.Timeout:
            return None


def test_nng_accepts_the_certificate_for_its_name(certs: Path) -> None:
    assert tls_round_trip(certs, "localhost") == b"pong"


def test_nng_refuses_the_certificate_for_another_name(certs: Path) -> None:
    assert tls_round_trip(certs, "other.example.org") is None
