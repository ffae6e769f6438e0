"""yamllint over every YAML file of the deployment recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy_support import DEPLOY, run, tool

CONFIG = DEPLOY / ".yamllint.yaml"
YAML_FILES = sorted(path for path in DEPLOY.rglob("*.y*ml") if path != CONFIG)


def yamllint(path: Path) -> str | None:
    """yamllint's findings for one file (warnings included), or None when clean."""
    binary = tool("yamllint", "PyPI package yamllint: scripts/install-deps.sh installs it into .venv")
    result = run([binary, "--strict", "--format", "parsable", "--config-file", str(CONFIG), str(path)])
    return None if result.returncode == 0 else result.stdout + result.stderr


def test_every_recipe_has_yaml_to_lint() -> None:
    folders = {path.parent.name for path in YAML_FILES}
    assert {"container", "kubernetes"} <= folders


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(DEPLOY)))
def test_yaml_file_passes_yamllint(path: Path) -> None:
    assert yamllint(path) is None


@pytest.mark.parametrize(
    "old, new",
    [
        ("image: meow:latest\n", "image: meow:latest   \n"),  # trailing spaces
        ("  replicas: 1\n", "  replicas: 1\n  replicas: 2\n"),  # duplicate key
        ("      containers:\n", "      containers:\n\t"),  # a tab: not even YAML
    ],
)
def test_broken_yaml_fails_yamllint(tmp_path: Path, old: str, new: str) -> None:
    source = DEPLOY / "kubernetes" / "learner-statefulset.yaml"
    text = source.read_text()
    assert old in text
    broken = tmp_path / source.name
    broken.write_text(text.replace(old, new, 1))
    assert yamllint(broken) is not None
