"""Shell scripts: shellcheck on every one, the launchers' resume and actor-id
rules, and the Slurm script's start and stop sequence under stand-in Slurm
commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from deploy_support import DEPLOY, run, tool

LAUNCHERS = DEPLOY / "bin"
SBATCH = DEPLOY / "slurm" / "meow.sbatch"
# Every file under deploy/ that starts with a shell shebang.
SCRIPTS = sorted(
    path for path in DEPLOY.rglob("*")
    if path.is_file() and path.read_bytes()[:32].startswith((b"#!/bin/sh", b"#!/bin/bash"))
)


def stand_in(directory: Path, name: str, body: str) -> Path:
    """An executable bash script `name` in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return path


def path_with(directory: Path) -> dict[str, str]:
    """The test environment with `directory` first on PATH and no inherited meow/Slurm settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MEOW_", "SLURM_"))}
    env["PATH"] = f"{directory}:{env['PATH']}"
    return env


# MARK: - shellcheck


def test_every_script_is_found() -> None:
    assert {path.name for path in SCRIPTS} >= {"meow-learner-start", "meow-actor-start", "meow.sbatch", "make-test-certs"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_passes_shellcheck(script: Path) -> None:
    shellcheck = tool("shellcheck", "Debian package shellcheck")
    result = run([shellcheck, "--severity=style", str(script)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.access(script, os.X_OK)


def test_shellcheck_flags_a_broken_copy(tmp_path: Path) -> None:
    shellcheck = tool("shellcheck", "Debian package shellcheck")
    broken = tmp_path / "meow.sbatch"
    broken.write_text(SBATCH.read_text().replace('--token-file "$token_file"', "--token-file $token_file", 1))
    assert run([shellcheck, str(broken)]).returncode != 0


# MARK: - meow-learner-start


def learner_command(tmp_path: Path, run_dir: Path) -> list[str]:
    """The meow-learner command line that meow-learner-start runs for `run_dir`."""
    bin_dir = tmp_path / "bin"
    stand_in(bin_dir, "meow-learner", 'printf "%s\\n" "$@"\n')
    result = run([str(LAUNCHERS / "meow-learner-start"), str(run_dir), "--env", "pendulum"], env=path_with(bin_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_first_start_does_not_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert learner_command(tmp_path, run_dir) == ["--run-dir", str(run_dir), "--env", "pendulum"]
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "wal").mkdir(parents=True)
    assert "--resume" not in learner_command(tmp_path, run_dir), "empty checkpoints/ and wal/ hold no run"


def test_restart_resumes_from_the_run_directory(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints" / "step-000100").mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")
    assert learner_command(tmp_path, run_dir) == [
        "--run-dir", str(run_dir), "--resume", str(run_dir), "--env", "pendulum",
    ]


def test_restart_before_the_first_checkpoint_resumes_from_the_log(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "wal").mkdir(parents=True)
    (run_dir / "wal" / "segment-000000000001.wal").write_bytes(b"")
    assert "--resume" in learner_command(tmp_path, run_dir), "a log without a checkpoint is a run to continue"


def test_learner_launcher_needs_a_run_directory() -> None:
    assert run([str(LAUNCHERS / "meow-learner-start")]).returncode == 64


# MARK: - meow-actor-start


def actor_id(tmp_path: Path, host: str = "node", **env: str) -> int:
    """The --actor-id meow-actor-start passes, on a host named `host`."""
    bin_dir = tmp_path / "bin"
    stand_in(bin_dir, "meow-actor", 'printf "%s\\n" "$@"\n')
    stand_in(bin_dir, "hostname", f"echo {host}\n")
    result = run([str(LAUNCHERS / "meow-actor-start"), "--env", "pendulum"], env=path_with(bin_dir) | env)
    assert result.returncode == 0, result.stderr
    args = result.stdout.splitlines()
    assert args[0] == "--actor-id" and args[2:] == ["--env", "pendulum"]
    return int(args[1])


def test_actor_id_comes_from_meow_actor_id_first(tmp_path: Path) -> None:
    assert actor_id(tmp_path, MEOW_ACTOR_ID="7", SLURM_PROCID="3") == 7


def test_actor_id_comes_from_the_slurm_rank_next(tmp_path: Path) -> None:
    assert actor_id(tmp_path, SLURM_PROCID="3") == 3


def test_actor_id_from_host_name_is_stable_and_distinct(tmp_path: Path) -> None:
    pods = [f"meow-actor-5d9c7b8f4-{suffix}" for suffix in ("x2k9p", "q7w4z", "m8n3v", "b6c1d")]
    ids = [actor_id(tmp_path, pod) for pod in pods]
    assert len(set(ids)) == len(ids)
    assert all(0 <= value < 2**31 for value in ids)
    assert actor_id(tmp_path, pods[0]) == ids[0]


# MARK: - Slurm script


SLURM_STAND_INS = {
    # Each step records its command line and pid, then runs until signalled
    # (or 30 s, so a failed test leaves nothing behind); FAKE_LEARNER_SECONDS
    # makes the learner finish the run by itself.
    "srun": """
name=""
for arg in "$@"; do case $arg in --job-name=*) name=${arg#--job-name=} ;; esac; done
printf '%s\\n' "$*" >"$FAKE/$name.args"
trap 'echo "$name stopped" >>"$FAKE/events"; exit 0' TERM
echo $$ >"$FAKE/$name.pid"
if [[ $name == meow-learner && -n ${FAKE_LEARNER_SECONDS:-} ]]; then
    sleep "$FAKE_LEARNER_SECONDS"; echo "$name finished" >>"$FAKE/events"; exit "$FAKE_LEARNER_STATUS"
fi
for _ in $(seq 600); do sleep 0.05; done
""",
    "scontrol": 'printf "%s\\n" node0 node1 node2\n',
    "squeue": 'printf "%s\\n" "42.0 meow-learner" "42.1 meow-actors"\n',
    # Slurm delivers a step signal to the step's tasks; here the step is the srun stand-in.
    "scancel": """
case ${@: -1} in 42.0) name=meow-learner ;; 42.1) name=meow-actors ;; esac
echo "scancel $1 $name" >>"$FAKE/events"
# squeue listed the step, so it has started: on a loaded machine its srun stand-in may not have
# written its pid yet, and a signal sent before that would be lost (the step would then run on).
for _ in $(seq 200); do [[ -f $FAKE/$name.pid ]] && break; sleep 0.05; done
[[ -f $FAKE/$name.pid ]] && kill -TERM "$(cat "$FAKE/$name.pid")" 2>/dev/null
exit 0
""",
}


@pytest.fixture(autouse=True)
def stop_leftover_steps(tmp_path: Path):
    """Ends srun stand-ins a failed test left running (by the pids they recorded)."""
    yield
    for pid_file in (tmp_path / "fake").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def start_sbatch(tmp_path: Path, stand_ins: dict[str, str] = SLURM_STAND_INS,
                 **env: str) -> tuple[subprocess.Popen, Path, Path]:
    """Runs meow.sbatch as Slurm would start it, against the Slurm stand-ins."""
    fake = tmp_path / "fake"
    for name, body in stand_ins.items():
        stand_in(fake, name, body)
    run_dir = tmp_path / "run"
    environment = path_with(fake) | {
        "FAKE": str(fake), "SLURM_JOB_ID": "42", "SLURM_JOB_NODELIST": "node[0-2]",
        "SLURM_SUBMIT_DIR": str(tmp_path), "MEOW_RUN_DIR": str(run_dir),
        "MEOW_LEARNER_ARGS": "--steps 5000 --seed 3",
    } | env
    process = subprocess.Popen(["bash", str(SBATCH)], env=environment, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, fake, run_dir


def wait_for(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def test_sbatch_places_learner_and_actors_and_shares_a_token(tmp_path: Path) -> None:
    process, fake, run_dir = start_sbatch(tmp_path, FAKE_LEARNER_SECONDS="0.5", FAKE_LEARNER_STATUS="0")
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output

    learner = (fake / "meow-learner.args").read_text().split()
    assert "--nodelist=node0" in learner and "--ntasks=1" in learner
    assert learner[learner.index("--listen") + 1] == "tcp://0.0.0.0:7700"
    assert learner[learner.index("meow-learner-start") + 1] == str(run_dir)
    assert learner[-4:] == ["--steps", "5000", "--seed", "3"]
    actors = (fake / "meow-actors.args").read_text().split()
    assert "--nodes=2" in actors and "--exclude=node0" in actors and "--ntasks-per-node=4" in actors
    assert actors[actors.index("--connect") + 1] == "tcp://node0:7700"

    token = run_dir / "token"
    assert learner[learner.index("--token-file") + 1] == str(token)
    assert actors[actors.index("--token-file") + 1] == str(token)
    assert token.stat().st_mode & 0o777 == 0o600
    assert len(token.read_text()) == 64 and int(token.read_text(), 16) > 0
    # The learner ended the run: the actors' step is stopped after it.
    assert (fake / "events").read_text().splitlines() == [
        "meow-learner finished", "scancel --signal=INT meow-actors", "meow-actors stopped",
    ]


def test_sbatch_reports_a_failed_learner(tmp_path: Path) -> None:
    process, _, _ = start_sbatch(tmp_path, FAKE_LEARNER_SECONDS="0.2", FAKE_LEARNER_STATUS="3")
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 3, output


def test_sbatch_stop_sends_sigint_to_actors_then_learner(tmp_path: Path) -> None:
    process, fake, run_dir = start_sbatch(tmp_path)
    try:
        wait_for(fake / "meow-learner.pid")
        wait_for(fake / "meow-actors.pid")
        token = (run_dir / "token").read_text()
        process.send_signal(signal.SIGTERM)  # what --signal=B:TERM@300 delivers before the time limit
        output, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert (fake / "events").read_text().splitlines() == [
        "scancel --signal=INT meow-actors", "meow-actors stopped",
        "scancel --signal=INT meow-learner", "meow-learner stopped",
    ]

    # A resubmission with the same run directory keeps the token.
    again, _, _ = start_sbatch(tmp_path, FAKE_LEARNER_SECONDS="0", FAKE_LEARNER_STATUS="0")
    again.communicate(timeout=20)
    assert (run_dir / "token").read_text() == token


def test_sbatch_refuses_a_single_node(tmp_path: Path) -> None:
    process, fake, _ = start_sbatch(tmp_path, SLURM_STAND_INS | {"scontrol": "echo node0\n"})
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 1 and "at least 2 nodes" in output
    assert not (fake / "meow-learner.args").exists()


# MARK: - Slurm script, real processes

# srun that runs its step here, as one task: srun's own --option=value flags are dropped and the
# command replaces the stand-in (so scancel's signal reaches the real process).
REAL_SRUN = """
name=""
while [[ $# -gt 0 && $1 == --*=* ]]; do
    case $1 in --job-name=*) name=${1#--job-name=} ;; esac
    shift
done
echo $$ >"$FAKE/$name.pid"
export SLURM_PROCID=0
exec "$@" >"$FAKE/$name.log" 2>&1
"""


def free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sbatch_trains_hopper_with_native_actors(tmp_path: Path) -> None:
    """The default MEOW_ENV is hopper: the learner and a native MuJoCo actor train it, no Python."""
    bin_dir = Path(os.environ.get("MEOW_BIN_DIR", DEPLOY.parent / ".build" / "release"))
    for binary in ("meow-learner", "meow-actor"):
        if not (bin_dir / binary).is_file():
            pytest.fail(f"{bin_dir / binary} is missing: build it with `swift build -c release` (make test does)")
    stand_ins = SLURM_STAND_INS | {"srun": REAL_SRUN, "scontrol": 'printf "%s\\n" localhost localhost\n'}
    stats = tmp_path / "actor-stats.json"
    process, fake, run_dir = start_sbatch(
        tmp_path, stand_ins, MEOW_BIN_DIR=str(bin_dir), MEOW_LAUNCHER_DIR=str(LAUNCHERS), MEOW_PORT=str(free_port()),
        MEOW_ACTORS_PER_NODE="1",
        MEOW_LEARNER_ARGS=f"--steps 1200 --learning-starts 400 --batch-size 32 --seed 3 "
                          f"--metrics-listen 127.0.0.1:{free_port()}",
        MEOW_ACTOR_ARGS=f"--stats-file {stats} --quiet")
    try:
        output, _ = process.communicate(timeout=240)
    finally:
        process.kill()
    logs = "".join(path.read_text() for path in fake.glob("*.log"))
    assert process.returncode == 0, output + logs
    assert "hopper" in output or "hopper" in logs
    actor = json.loads(stats.read_text())
    assert actor["env_steps"] >= 1200 - 200, actor
    assert actor["transitions_acked"] > 0, actor
    learner = json.loads((run_dir / "learner-stats.json").read_text())
    assert learner["env_steps"] >= 1200, learner
