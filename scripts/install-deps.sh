#!/usr/bin/env bash
# Installs what meow needs and is missing, and nothing else.
#
#   scripts/install-deps.sh          system packages + the Python test environment (.venv)
#   scripts/install-deps.sh --system system packages only (what the binaries need)
#
# System packages come from Debian's apt (as root, or through sudo). Python
# packages go into a virtual environment at .venv, so the system Python is never
# modified; `make test` puts .venv/bin first on PATH. The Swift toolchain cannot
# come from apt: if `swift` is missing we say where to get it and stop.
set -euo pipefail
cd "$(dirname "$0")/.."

# libmujoco-dev: MuJoCo 2.2.2, which the built-in hopper, walker2d, halfcheetah, ant and humanoid step.
APT_PACKAGES=(libnng-dev libopenblas-dev libmujoco-dev python3-venv openssl make systemd shellcheck)
PY_REQUIREMENTS=requirements-dev.txt
# The client is installed from requirements-dev.txt in editable mode; its dependencies and extras
# live in its pyproject, so a change to either file reinstalls.
PY_STAMPED=("$PY_REQUIREMENTS" protocol/python/pyproject.toml)

say() { printf '[deps] %s\n' "$*"; }

if ! command -v swift >/dev/null 2>&1; then
    say "error: the Swift 6 toolchain is not on PATH."
    say "Install Swift 6.x for Debian 12 from swift.org (or use the swift:6.x-bookworm image), then rerun."
    exit 1
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { say "error: need root or sudo to install ${missing[*]}"; exit 1; }
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "Debian packages present: ${APT_PACKAGES[*]}"
fi

[ "${1:-}" = "--system" ] && exit 0

if [ ! -x .venv/bin/python ]; then
    say "creating Python environment .venv"
    python3 -m venv .venv
fi
stamp=.venv/.meow-requirements
if [ ! -f "$stamp" ] || ! cat "${PY_STAMPED[@]}" | cmp -s - "$stamp"; then
    say "installing Python test packages from $PY_REQUIREMENTS (meow_client editable, with its extras)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$PY_REQUIREMENTS"
    cat "${PY_STAMPED[@]}" > "$stamp"
else
    say "Python test packages present (.venv)"
fi
