"""Multi-host faults on a private network of Linux network namespaces:
multihost/netns-fault-test with the real meow-learner and meow-actor binaries,
over plain TCP with a token and over TLS.

The script needs root and `ip netns`; without them the test skips and says
why. Binaries come from MEOW_BIN_DIR, else .build/release, else .build/debug
(what `make test` builds), and the test skips when none of them has both.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from deploy_support import REPO, run, tool

SCRIPT = Path(__file__).resolve().parent / "multihost" / "netns-fault-test"
PRODUCTS = ("meow-learner", "meow-actor")
# The script fails by itself after this many seconds; the test allows a little more for cleanup.
SCRIPT_LIMIT_S = 110


# MARK: - shellcheck


def test_fault_script_passes_shellcheck() -> None:
    shellcheck = tool("shellcheck", "Debian package shellcheck")
    result = run([shellcheck, "--severity=style", str(SCRIPT)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.access(SCRIPT, os.X_OK)


def test_fault_script_usage_error() -> None:
    assert run([str(SCRIPT)]).returncode == 64


# MARK: - Prerequisites


def binary_directory() -> Path:
    """Where meow-learner and meow-actor are, or a skip that says how to build them."""
    if os.environ.get("MEOW_BIN_DIR"):
        candidates = [Path(os.environ["MEOW_BIN_DIR"])]
    else:
        candidates = [REPO / ".build" / "release", REPO / ".build" / "debug"]
    for directory in candidates:
        if all((directory / product).is_file() for product in PRODUCTS):
            return directory
    pytest.skip(f"no meow-learner and meow-actor in {', '.join(map(str, candidates))} (swift build)")


def require_network_namespaces() -> None:
    """Skips unless this process may create network namespaces."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for command in ("ip", "curl"):
        tool(command, f"Debian package {'iproute2' if command == 'ip' else command}")
    probe = f"meow-probe-{os.getpid()}"
    added = run(["ip", "netns", "add", probe])
    if added.returncode != 0:
        pytest.skip(f"`ip netns add` failed: {added.stderr.strip()}")
    run(["ip", "netns", "del", probe])


def namespaces_of(pid: int) -> list[str]:
    """The network namespaces named after the script with this pid."""
    names = [line.split()[0] for line in run(["ip", "netns", "list"]).stdout.splitlines() if line.strip()]
    return [name for name in names if name.startswith("meow-") and name.endswith(f"-{pid}")]


def remove_leftovers(pid: int) -> None:
    """Stops what a killed script left in its namespaces (by pid) and deletes the namespaces."""
    for host in ("sw", "l", "a1", "a2"):
        namespace = f"meow-{host}-{pid}"
        pids = run(["ip", "netns", "pids", namespace]).stdout.split()
        for leftover in pids:
            try:
                os.kill(int(leftover), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", namespace])
        shutil.rmtree(f"/etc/netns/{namespace}", ignore_errors=True)


# MARK: - Faults


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_link_cut_learner_restarts_and_wrong_token(transport: str, tmp_path: Path) -> None:
    bin_dir = binary_directory()
    require_network_namespaces()
    if transport == "tls":
        tool("openssl", "Debian package openssl")
    args = [str(SCRIPT), *(["--tls"] if transport == "tls" else []), str(bin_dir), str(tmp_path / "work")]
    environment = os.environ | {"MEOW_NETNS_LIMIT_S": str(SCRIPT_LIMIT_S)}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
    try:
        output, _ = process.communicate(timeout=SCRIPT_LIMIT_S + 30)
        left_behind = namespaces_of(process.pid)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # its EXIT trap stops its processes and deletes the namespaces
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"netns-fault-test did not finish in {SCRIPT_LIMIT_S + 30} s:\n{output}")
    finally:
        remove_leftovers(process.pid)
    print(output)
    assert process.returncode == 0, output
    assert output.rstrip().splitlines()[-1].endswith(" s)") and "PASS" in output.rstrip().splitlines()[-1]
    assert not left_behind, f"the script left namespaces behind: {left_behind}"
