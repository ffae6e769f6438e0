"""The executables as a user meets them: `meow config` for every environment, `meow evaluate` taking
what it needs from the policy itself, and errors that are sentences naming the file or field at fault
(never a Swift enum or a Foundation error domain)."""

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import free_port

# What a message must never look like: `truncated(needed: 6520, …)`, `Error Domain=NSCocoaErrorDomain Code=513`.
ENUM_DUMP = re.compile(r"\b[a-z][A-Za-z]*\((?:[a-z][A-Za-z]*: |\"|[A-Z][A-Za-z.]*\()")
FOUNDATION = re.compile(r"Error Domain=|NSCocoaErrorDomain|NSPOSIXErrorDomain|UserInfo=")


def run(bin_dir: Path, product: str, *args, timeout=120, cwd=None):
    return subprocess.run([str(bin_dir / product), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def assert_sentence(text: str, *names):
    """The error is one readable sentence that names each of `names` (a file, flag or field)."""
    for name in names:
        assert str(name) in text, f"{name!r} is not named in: {text!r}"
    assert not FOUNDATION.search(text), f"a Foundation error dump reached the user: {text!r}"
    assert not ENUM_DUMP.search(text), f"a Swift enum dump reached the user: {text!r}"


@pytest.fixture(scope="module")
def trained(bin_dir, tmp_path_factory):
    """A tiny pendulum run: its run directory, with policy.safetensors, config.json and a checkpoint."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    result = run(bin_dir, "meow", "train", "--env", "pendulum", "--steps", "300", "--learning-starts", "100",
                 "--batch-size", "32", "--eval-every", "0", "--quiet", "--run-dir", run_dir, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (run_dir / "policy.safetensors").exists()
    return run_dir


# MARK: - meow config


def environment_names(bin_dir):
    """Every environment and preset the learner's --help lists."""
    help_text = run(bin_dir, "meow-learner", "--help", cwd=None).stdout
    listed = re.search(r"Built-in environment \(([^)]*)\)", " ".join(help_text.split()))
    assert listed, help_text
    return [name.strip() for name in listed.group(1).split(",")]


def test_config_prints_a_template_for_every_environment_and_gymnasium_id(bin_dir):
    names = environment_names(bin_dir)
    assert "hopper" in names and "pendulum" in names
    gymnasium_ids = {"Hopper-v4": "hopper", "Pendulum-v1": "pendulum", "MountainCarContinuous-v0": "mountaincar"}
    for name, canonical in [(name, name) for name in names] + list(gymnasium_ids.items()):
        result = run(bin_dir, "meow", "config", "--env", name)
        assert result.returncode == 0, f"meow config --env {name}: {result.stderr}"
        assert json.loads(result.stdout)["env"] == canonical


# MARK: - meow evaluate


def test_evaluate_takes_the_environment_from_the_policy(bin_dir, trained, tmp_path):
    # Alone, away from its run's config.json: the file's metadata says where it acts.
    alone = tmp_path / "elsewhere.safetensors"
    shutil.copy(trained / "policy.safetensors", alone)
    result = run(bin_dir, "meow", "evaluate", "--policy", alone, "--episodes", "1")
    assert result.returncode == 0, result.stderr
    assert "evaluating pendulum" in result.stderr
    assert result.stdout.startswith("mean return ")

    # A checkpoint directory: its manifest says the same.
    checkpoint = next((trained / "checkpoints").glob("step-*"))
    result = run(bin_dir, "meow", "evaluate", "--policy", checkpoint, "--episodes", "1")
    assert result.returncode == 0, result.stderr
    assert "evaluating pendulum" in result.stderr


def test_evaluate_help_lists_only_evaluation_flags(bin_dir):
    help_text = run(bin_dir, "meow", "evaluate", "--help").stdout
    for flag in ("--policy", "--env", "--model", "--episodes", "--stochastic", "--noise-seed"):
        assert flag in help_text
    for training_flag in ("--alpha", "--learning-rate", "--steps", "--batch-size", "--run-dir"):
        assert training_flag not in help_text


# MARK: - Errors are sentences


def test_a_truncated_policy_is_named_with_what_is_wrong(bin_dir, trained, tmp_path):
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes((trained / "policy.safetensors").read_bytes()[:1000])
    result = run(bin_dir, "meow", "evaluate", "--policy", truncated, "--env", "pendulum")
    assert result.returncode != 0
    assert_sentence(result.stderr, truncated, "truncated")


def rewrite_metadata(source: Path, target: Path, **changes):
    """Copies a safetensors file with some `__metadata__` values replaced (the tensors stay valid)."""
    data = source.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header["__metadata__"].update(changes)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    target.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length:])


def test_mismatched_metadata_names_the_field(bin_dir, trained, tmp_path):
    newer = tmp_path / "newer.safetensors"
    rewrite_metadata(trained / "policy.safetensors", newer, format_version="99")
    result = run(bin_dir, "meow", "evaluate", "--policy", newer)
    assert result.returncode != 0
    assert_sentence(result.stderr, newer, "format_version", "99")

    # The policy's spaces against another environment's.
    result = run(bin_dir, "meow", "evaluate", "--policy", trained / "policy.safetensors", "--env", "mountaincar")
    assert result.returncode != 0
    assert_sentence(result.stderr, trained / "policy.safetensors", "observation_dimension", "mountaincar")


def unwritable_run_dir(tmp_path: Path) -> Path:
    """A run directory that cannot be created: under a read-only directory, or (as root, whom
    permissions do not stop) under a regular file."""
    if os.geteuid() != 0:
        parent = tmp_path / "read-only"
        parent.mkdir()
        parent.chmod(0o555)
        return parent / "run"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    return blocker / "run"


def test_the_learner_names_a_run_directory_it_cannot_write(bin_dir, tmp_path):
    run_dir = unwritable_run_dir(tmp_path)
    result = run(bin_dir, "meow-learner", "--listen", f"tcp://127.0.0.1:{free_port()}", "--run-dir", run_dir,
                 "--quiet", timeout=60)
    assert result.returncode != 0
    assert_sentence(result.stderr, run_dir)
    assert re.search(r"(Permission denied|Not a directory)", result.stderr), result.stderr


def test_the_trainer_names_a_run_directory_it_cannot_write(bin_dir, tmp_path):
    run_dir = unwritable_run_dir(tmp_path)
    result = run(bin_dir, "meow", "train", "--env", "pendulum", "--steps", "10", "--quiet", "--run-dir", run_dir)
    assert result.returncode != 0
    assert_sentence(result.stderr, run_dir)
    assert re.search(r"(Permission denied|Not a directory)", result.stderr), result.stderr
