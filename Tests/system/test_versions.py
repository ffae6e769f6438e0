"""One version everywhere: every executable's --version and the Python client's __version__."""

import subprocess
import tomllib
from pathlib import Path

import meow_client

ROOT = Path(__file__).resolve().parents[2]


def test_every_executable_and_the_client_report_the_same_version(bin_dir: Path) -> None:
    expected = meow_client.__version__
    with open(ROOT / "protocol" / "python" / "pyproject.toml", "rb") as file:
        assert tomllib.load(file)["project"]["version"] == expected
    for name in ("meow", "meow-learner", "meow-actor", "meow-bench"):
        binary = bin_dir / name
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected, f"{name} says {result.stdout.strip()!r}"
