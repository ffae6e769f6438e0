"""Fixtures for the multi-process tests: real meow-learner and meow-actor binaries on loopback TCP.

The binaries come from MEOW_BIN_DIR, else .build/release (built here if missing: the
debug build trains far too slowly for a few hundred updates in a test).
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bin_dir() -> Path:
    if os.environ.get("MEOW_BIN_DIR"):
        return Path(os.environ["MEOW_BIN_DIR"])
    path = ROOT / ".build" / "release"
    for product in ("meow-learner", "meow-actor"):
        if not (path / product).exists():
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    return _bin_dir()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Starts processes, remembers them, and stops whatever is left at the end of a test."""

    def __init__(self, bin_dir: Path, tmp: Path):
        self.bin_dir = bin_dir
        self.tmp = tmp
        self.port = free_port()
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.processes = []

    def learner(self, *args, run_dir="run", name="learner", env=None) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        cmd = [str(self.bin_dir / "meow-learner"), "--listen", self.url, "--run-dir", str(self.tmp / run_dir),
               "--learning-starts", "200", "--batch-size", "64", "--eval-every", "0", "--quiet", *args]
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.processes.append(p)
        return p

    def actor(self, index: int, *args, env=None) -> subprocess.Popen:
        log = open(self.tmp / f"actor{index}.log", "ab")
        cmd = [str(self.bin_dir / "meow-actor"), "--connect", self.url, "--actor-id", str(index),
               "--batch-size", "32", "--weights-every", "100", "--request-timeout-ms", "500",
               "--stats-file", str(self.tmp / f"actor{index}.json"), "--quiet", *args]
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.processes.append(p)
        return p

    def learner_stats(self, run_dir="run"):
        return read_json(self.tmp / run_dir / "learner-stats.json")

    def actor_stats(self, index: int):
        return read_json(self.tmp / f"actor{index}.json")

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_all(self):
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
        for p in self.processes:
            p.wait()


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    """Polls `condition` until it returns a truthy value; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def stop(process: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM, then the exit status (SIGKILL and failure after `timeout`)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("process did not exit after SIGTERM")


@pytest.fixture
def cluster(bin_dir, tmp_path):
    c = Cluster(bin_dir, tmp_path)
    yield c
    c.stop_all()
