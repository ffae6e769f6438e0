"""systemd units: `systemd-analyze verify`, the hardening score, and the settings
the learner's checkpointing and the token handling depend on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy_support import DEPLOY, run, tool

UNITS = DEPLOY / "systemd"
UNIT_FILES = ["meow-learner.service", "meow-actor@.service"]
INSTALLED_BIN = "/usr/local/bin/"
SYSTEMD_HINT = "Debian package systemd"

# Highest `systemd-analyze security` exposure accepted, in tenths (2.0 of 10).
# Both units score 1.2; dropping ProtectSystem=, NoNewPrivileges=, the system
# call filter and the address-family list takes a copy to 5.0.
EXPOSURE_THRESHOLD = "20"


def stage_units(directory: Path, edit=lambda name, text: text) -> Path:
    """Copies the units into `directory` with their binaries replaced by stand-ins.

    `systemd-analyze verify` checks that every ExecStart= binary exists and is
    executable, and the real ones are only installed on a deployed host. The
    stand-ins live in the temporary directory and the units are rewritten to
    point at them; `edit` can then break a copy on purpose.
    """
    stand_ins = directory / "bin"
    stand_ins.mkdir(parents=True, exist_ok=True)
    for name in ("meow-learner-start", "meow-actor"):
        binary = stand_ins / name
        binary.write_text("#!/bin/sh\nexit 0\n")
        binary.chmod(0o755)
    for name in UNIT_FILES:
        text = (UNITS / name).read_text().replace(INSTALLED_BIN, f"{stand_ins}/")
        (directory / name).write_text(edit(name, text))
    return directory


def verify(unit: Path) -> list[str]:
    """Problems `systemd-analyze verify` reports for one unit file.

    verify exits 0 for unknown keys and unparsable values (it logs "ignoring"
    and goes on, as systemd itself would), so any output counts as a problem too.
    """
    analyze = tool("systemd-analyze", SYSTEMD_HINT)
    result = run([analyze, "verify", str(unit)])
    problems = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 and not problems:
        problems.append(f"exit status {result.returncode}")
    return problems


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Key -> values of a unit file, with backslash continuations joined."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


# MARK: - systemd-analyze verify


@pytest.mark.parametrize("name", [*UNIT_FILES, "meow-actor@3.service"])
def test_unit_verifies_cleanly(tmp_path: Path, name: str) -> None:
    staged = stage_units(tmp_path)
    if name == "meow-actor@3.service":
        # An instance of the template, as `systemctl start meow-actor@3` loads it.
        (staged / name).write_text((staged / "meow-actor@.service").read_text())
    assert verify(staged / name) == []


BREAKAGES = {
    "missing binary": ("meow-learner.service", "/bin/meow-learner-start %S", "/bin/meow-learner-gone %S"),
    "misspelt key": ("meow-learner.service", "KillSignal=SIGINT", "KilSignal=SIGINT"),
    "bad restart value": ("meow-actor@.service", "Restart=always", "Restart=sometimes"),
    "bad signal": ("meow-learner.service", "KillSignal=SIGINT", "KillSignal=SIGNOPE"),
    "key in wrong section": ("meow-actor@.service", "StartLimitIntervalSec=0\n", "StartLimitIntervalSec=0\nRestart=always\n"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_broken_unit_fails_verification(tmp_path: Path, breakage: str) -> None:
    target, old, new = BREAKAGES[breakage]

    def break_it(name: str, text: str) -> str:
        if name != target:
            return text
        assert old in text, f"the {breakage!r} edit no longer applies to {name}"
        return text.replace(old, new, 1)

    staged = stage_units(tmp_path, break_it)
    assert verify(staged / target) != []


# MARK: - Hardening


@pytest.mark.parametrize("name", UNIT_FILES)
def test_unit_exposure_is_low(tmp_path: Path, name: str) -> None:
    analyze = tool("systemd-analyze", SYSTEMD_HINT)
    staged = stage_units(tmp_path)
    result = run([analyze, "security", "--offline=yes", f"--threshold={EXPOSURE_THRESHOLD}", str(staged / name)])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_unhardened_copy_exceeds_exposure_threshold(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", SYSTEMD_HINT)
    dropped = ("ProtectSystem=", "NoNewPrivileges=", "SystemCallFilter=", "RestrictAddressFamilies=", "CapabilityBoundingSet=")

    def weaken(name: str, text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith(dropped)) + "\n"

    staged = stage_units(tmp_path, weaken)
    result = run([analyze, "security", "--offline=yes", f"--threshold={EXPOSURE_THRESHOLD}", str(staged / "meow-learner.service")])
    assert result.returncode != 0


# MARK: - Checkpointing, restarts and the token


def test_learner_resumes_and_saves_on_stop() -> None:
    settings = unit_settings(UNITS / "meow-learner.service")
    (exec_start,) = settings["ExecStart"]
    # The wrapper adds --resume when the run directory holds a checkpoint.
    assert exec_start.startswith("/usr/local/bin/meow-learner-start %S/meow/run ")
    assert settings["Restart"] == ["on-failure"]
    assert settings["KillSignal"] == ["SIGINT"]
    assert settings["StateDirectory"] == ["meow"]
    assert settings["ProtectSystem"] == ["strict"]


def test_actor_template_uses_instance_as_actor_id() -> None:
    settings = unit_settings(UNITS / "meow-actor@.service")
    (exec_start,) = settings["ExecStart"]
    assert "--actor-id %i" in exec_start
    assert settings["Restart"] == ["always"]
    assert settings["StartLimitIntervalSec"] == ["0"]
    assert settings["KillSignal"] == ["SIGINT"]


@pytest.mark.parametrize("name", UNIT_FILES)
def test_token_comes_from_a_credential_file(name: str) -> None:
    settings = unit_settings(UNITS / name)
    (exec_start,) = settings["ExecStart"]
    assert "--token-file %d/token" in exec_start
    assert settings["LoadCredential"] == ["token:/etc/meow/token"]
    assert "--token " not in exec_start and "MEOW_TOKEN" not in (UNITS / name).read_text()
    assert "MEOW_TOKEN=" not in (UNITS / "meow.env").read_text()


def test_units_train_hopper_with_native_actors_by_default() -> None:
    settings = dict(line.partition("=")[::2] for line in (UNITS / "meow.env").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert settings["MEOW_ENV"] == "hopper"
    for name in UNIT_FILES:
        (exec_start,) = unit_settings(UNITS / name)["ExecStart"]
        assert "--env ${MEOW_ENV}" in exec_start


def test_environment_file_defines_every_variable_the_units_use() -> None:
    defined = {
        line.partition("=")[0]
        for line in (UNITS / "meow.env").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for name in UNIT_FILES:
        (exec_start,) = unit_settings(UNITS / name)["ExecStart"]
        used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", exec_start))
        assert used, f"{name} reads nothing from meow.env"
        assert used <= defined, f"{name} uses {sorted(used - defined)}, which meow.env does not define"
