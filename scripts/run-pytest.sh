#!/usr/bin/env bash
# Runs every Python test suite in the repository with the .venv interpreter.
# pytest exits 5 when it collects nothing; that is a failure here, because
# every suite listed below is expected to hold tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
suites=()
for dir in protocol/python/tests Tests/python Tests/deploy Tests/system; do
    [ -d "$dir" ] && suites+=("$dir")
done
if ((${#suites[@]} == 0)); then
    echo "[pytest] no Python suites in this tree"
    exit 0
fi
exec "$PY" -m pytest -q "${suites[@]}"
