"""Runs the shell commands shown in the README and the docs, so a documented command cannot break unseen.

Which blocks are commands: fenced blocks labelled ```sh, ```bash, ```shell or ```console (in a console
block only the `$ ` lines are commands; the rest is output). A block with no label must not hold a
command (it would escape this test): label it ```sh, or ```text for a synopsis or output.

The marker convention: a block that cannot run here starts with a comment line

    # not run by the docs test: REASON

and a single command that cannot run ends with the same comment (`make test  # ...; not run by the docs
test: REASON`). Either is checked to carry a reason; a command block with neither is run, so a new doc
cannot add an unchecked command. Blocks for Slurm, Kubernetes, Docker and systemd are marked; the
recipes they use are checked by the linters in Tests/deploy.

How a block runs: each document gets a fresh temporary directory holding a symlink to every top-level
entry of the repository (so `protocol/...`, `Makefile` and `deploy/...` resolve), `.build/release`
pointing at the release binaries (MEOW_BIN_DIR, as in conftest.py) and `.venv` at the project's
environment; `runs/` and everything a command writes are fresh. The binaries' directory and `.venv/bin`
lead PATH. The blocks of one document run in order in the same directory, as a reader would follow
them, and each logical command (backslash continuations joined) runs in its own `bash -c`.

Servers: a command that starts `meow-learner` or `meow-actor` (which run until stopped) is started in
the background. It must come up (its listen port accepts a connection, or, for an actor without one,
it keeps running) and still be running once the block's other commands are done; then it gets SIGTERM
and must exit cleanly. Its partners in the block (simulators, actors) are ordinary commands.

Budgets: SUBSTITUTIONS below shortens training, evaluation and benchmarks and moves ports, hosts and
/tmp into the test's own space. Each entry says why; a failing command reports the document, the
line, the command as written and the command as run.
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, free_port

DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
        "protocol/PROTOCOL.md", "protocol/python/README.md", "deploy/README.md"]
SHELL_LANGS = {"sh", "bash", "shell", "console"}
MARKER = "not run by the docs test:"
COMMAND_TIMEOUT_S = 60
SERVER_START_S = 20
# A line in an unlabelled block that starts like one of these is a command that would escape the test.
COMMAND_LIKE = re.compile(r"^\s*(\$ )?(meow(-learner|-actor|-bench)?\s|\.build/|\.venv/|make\s|swift\s|python3?\s"
                          r"|pip3?\s|cc\s|sudo\s|docker\s|kubectl\s|sbatch\s|openssl\s|git\s|deploy/|scripts/)")

STEPS = 200
# (pattern, replacement, why). Applied in order to every command; {tmp}, {bin}, {port}, {port2} are filled
# in per document.
SUBSTITUTIONS = [
    # First, so it rewrites only what the doc wrote, never a path filled in below (the repository, and so
    # {bin}, may itself live under /tmp).
    (r"(?<![\w.-])/tmp/", "{tmp}/", "scratch files stay in the test's directory"),
    (r"--steps \d+", f"--steps {STEPS}", "training and simulator runs: a few hundred steps, not a paper's budget"),
    (r"\(10000\|20000\)", f"({STEPS // 2}|{STEPS})", "the evaluation steps a result grep looks for follow the budget"),
    (r"--episodes \d+", "--episodes 2", "evaluations: two episodes"),
    (r"^(\S*meow-bench meow\b.*)$", r"\1 --repeats 1 --updates 2 --actions 20", "meow-bench meow: one short repeat"),
    (r"^make demo\b", f"make -o build demo BIN={{bin}} STEPS={STEPS}",
     "make demo: the binaries under test (built by make test-python), a short budget"),
    (r"0\.0\.0\.0:", "127.0.0.1:", "listen on loopback only"),
    (r"tcp://(learner(\.example\.org)?):", "tcp://127.0.0.1:", "the learner's host is this machine"),
    (r":7700\b", ":{port}", "a free port instead of the documented one"),
    (r":7701\b", ":{port2}", "a free port instead of the documented one"),
]


@dataclass
class Command:
    doc: str
    line: int
    text: str
    skip: str | None = None


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    body: list[tuple[int, str]] = field(default_factory=list)

    def skip_reason(self) -> str | None:
        first = next((text for _, text in self.body if text.strip()), "")
        if first.strip().startswith("#") and MARKER in first:
            return first.split(MARKER, 1)[1].strip()
        return None

    def commands(self) -> list[Command]:
        """Logical commands: continuations joined, comments and (in console blocks) output dropped."""
        out, pending, start = [], "", 0
        for number, text in self.body:
            if self.lang == "console" and not pending:
                if not text.startswith("$ "):
                    continue
                text = text[2:]
            if not pending:
                if not text.strip() or text.lstrip().startswith("#"):
                    continue
                start = number
            if text.rstrip().endswith("\\"):
                pending += text.rstrip()[:-1] + " "
                continue
            full = pending + text
            pending = ""
            skip = full.split(MARKER, 1)[1].strip() if MARKER in full else None
            # A trailing comment (` # ...` outside quotes) is prose, not part of the command.
            command = re.sub(r"(^|\s)#[^'\"]*$", "", full).strip()
            out.append(Command(self.doc, start, command, skip))
        return out


def parse(doc: str) -> list[Block]:
    lines = (ROOT / doc).read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        match = re.match(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)", lines[index])
        index += 1
        if not match:
            continue
        block = Block(doc, index, match.group(2))
        while index < len(lines) and not lines[index].strip().startswith(match.group(1)):
            block.body.append((index + 1, lines[index]))
            index += 1
        index += 1
        blocks.append(block)
    return blocks


# MARK: the docs' own rules


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_block_is_labelled_and_marked_with_a_reason(doc):
    problems = []
    for block in parse(doc):
        if block.lang == "":
            for number, text in block.body:
                if COMMAND_LIKE.match(text):
                    problems.append(f"{doc}:{number}: a command in an unlabelled block; label the block ```sh "
                                    f"(or ```text if it is not a command): {text.strip()}")
        if block.lang in SHELL_LANGS:
            if MARKER in "\n".join(t for _, t in block.body) and block.skip_reason() == "":
                problems.append(f"{doc}:{block.line}: '# {MARKER}' needs a reason after the colon")
            for command in block.commands():
                if command.skip == "":
                    problems.append(f"{doc}:{command.line}: '# {MARKER}' needs a reason after the colon")
    assert not problems, "\n".join(problems)


# MARK: running them


def substitute(text: str, values: dict) -> str:
    for pattern, replacement, _ in SUBSTITUTIONS:
        text = re.sub(pattern, replacement.format(**values) if "{" in replacement else replacement, text)
    # `meow train` without a budget gets one, and an evaluation within it (a resume keeps its run's).
    if re.search(r"(^|\s|/)meow train\b", text) and "--resume" not in text:
        extra = "" if "--steps" in text else f" --steps {STEPS}"
        extra += "" if "--eval-every" in text else f" --eval-every {STEPS // 2} --eval-episodes 1"
        text = re.sub(r"((?:^|\s|/)meow train)\b", lambda m: m.group(1) + extra, text)
    return text


def is_server(text: str) -> bool:
    words = shlex.split(text, comments=True)
    while words and re.match(r"^\w+=", words[0]):
        words.pop(0)
    return bool(words) and Path(words[0]).name in ("meow-learner", "meow-actor")


def listen_port(text: str) -> int | None:
    match = re.search(r"--(?:gateway-)?listen\s+\S*:(\d+)", text)
    return int(match.group(1)) if match else None


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def workspace(tmp: Path, bin_dir: Path) -> None:
    for entry in ROOT.iterdir():
        if entry.name not in (".build", ".venv", "runs", ".git"):
            (tmp / entry.name).symlink_to(entry)
    (tmp / ".build").mkdir()
    (tmp / ".build" / "release").symlink_to(bin_dir.resolve())
    (tmp / ".venv").symlink_to(ROOT / ".venv")


def failure(command: Command, ran: str, why: str, output: str) -> str:
    return (f"{command.doc}:{command.line}: {why}\n  as written: {command.text}\n  as run:     {ran}\n"
            f"--- output (last 3000 characters) ---\n{output[-3000:]}")


def run_doc(doc: str, tmp: Path, bin_dir: Path) -> list[str]:
    workspace(tmp, bin_dir)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir.resolve()}:{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    env["TOKEN"] = ""  # the docs' "$TOKEN": no token, which a loopback learner accepts
    values = {"tmp": str(tmp), "bin": str(bin_dir.resolve()), "port": free_port(), "port2": free_port()}
    for block in parse(doc):
        if block.lang not in SHELL_LANGS or block.skip_reason():
            continue
        servers = []
        try:
            for command in block.commands():
                if command.skip:
                    continue
                ran = substitute(command.text, values)
                if is_server(ran):
                    port = listen_port(ran)
                    if port is None and Path(shlex.split(ran)[0]).name == "meow-learner":
                        port = free_port()
                        ran += f" --listen tcp://127.0.0.1:{port}"
                    log = tmp / f"server-{command.line}.log"
                    process = subprocess.Popen(["bash", "-c", f"exec {ran}"], cwd=tmp, env=env, text=True,
                                               stdout=log.open("w"), stderr=subprocess.STDOUT)
                    servers.append((command, ran, process, log))
                    deadline = time.monotonic() + SERVER_START_S
                    while port is not None and not accepts(port):
                        if process.poll() is not None or time.monotonic() > deadline:
                            return [failure(command, ran, "the server did not start listening",
                                            log.read_text(errors="replace"))]
                        time.sleep(0.1)  # a real delay between connection attempts
                    continue
                try:
                    result = subprocess.run(["bash", "-o", "pipefail", "-c", ran], cwd=tmp, env=env, text=True,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            timeout=COMMAND_TIMEOUT_S)
                except subprocess.TimeoutExpired as error:
                    return [failure(command, ran, f"still running after {COMMAND_TIMEOUT_S} s",
                                    str(error.output or ""))]
                if result.returncode != 0:
                    return [failure(command, ran, f"exit status {result.returncode}", result.stdout)]
            problems = []
            for command, ran, process, log in servers:
                if process.poll() is not None:
                    problems.append(failure(command, ran, f"the server exited early ({process.returncode})",
                                            log.read_text(errors="replace")))
            if problems:
                return problems
        finally:
            for command, ran, process, log in servers:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for command, ran, process, log in servers:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for command, ran, process, log in servers:
            if process.returncode not in (0, -signal.SIGTERM):
                return [failure(command, ran, f"the server did not stop cleanly on SIGTERM ({process.returncode})",
                                log.read_text(errors="replace"))]
    return []


@pytest.mark.parametrize("doc", DOCS)
def test_documented_commands_run(doc, tmp_path, bin_dir):
    problems = run_doc(doc, tmp_path, bin_dir)
    assert not problems, "\n".join(problems)
