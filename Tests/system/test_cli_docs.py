"""docs/cli.md is what the executables' --help says: regenerated here and compared, so a flag
changed without `scripts/gen-cli-docs.sh` fails the suite instead of leaving the reference stale."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_matches_the_help_of_the_built_executables(bin_dir: Path, tmp_path: Path) -> None:
    generated = tmp_path / "cli.md"
    env = dict(os.environ, BIN=str(bin_dir), OUT=str(generated), COLUMNS="100")
    result = subprocess.run([str(ROOT / "scripts" / "gen-cli-docs.sh")], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    committed = (ROOT / "docs" / "cli.md").read_text()
    assert generated.read_text() == committed, (
        "docs/cli.md is out of date: run `swift build -c release && scripts/gen-cli-docs.sh` and commit it")
