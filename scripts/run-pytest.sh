#!/usr/bin/env bash
# Runs every Python test suite in the repository with the .venv interpreter.
# pytest exits 5 when it collects nothing; that is a failure here, because
# every suite listed below is expected to hold tests.
#
# With pytest-xdist installed (requirements-dev.txt) the test files are shared out to
# PYTEST_WORKERS processes (default 2), a whole file to one worker (--dist loadfile): the
# tests of one file share fixtures and a file's tests were written to run one after another.
# Most of the time goes to waiting on learner and actor processes, so two workers on two
# cores took the suite from 244 s to 158 s (same machine and load). PYTEST_WORKERS=1 runs it
# in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
suites=()
for dir in protocol/python/tests Tests/deploy Tests/system; do
    [ -d "$dir" ] && suites+=("$dir")
done
if ((${#suites[@]} == 0)); then
    echo "[pytest] no Python suites in this tree"
    exit 0
fi
workers=${PYTEST_WORKERS:-2}
parallel=()
if ((workers > 1)) && "$PY" -c 'import xdist' 2>/dev/null; then
    parallel=(-n "$workers" --dist loadfile)
fi
exec "$PY" -m pytest -q "${parallel[@]}" "${suites[@]}"
