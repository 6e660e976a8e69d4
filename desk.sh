#!/usr/bin/env bash
# Set-up and entry points of the desk. `./desk.sh up` sets up and starts the whole system;
# `./desk.sh test` sets up and runs the whole test suite. Both are safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=.venv
SYSTEM_PACKAGES_UP=(nodejs npm)
SYSTEM_PACKAGES_TEST=(tshark docker-compose chromium wrk)

# Log times are the exchange's (New York), as in every process of the desk.
say() { printf '[%s] [SYSTEM] %s\n' "$(TZ=America/New_York date +%H:%M:%S.%3N)" "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_system_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing system packages: ${missing[*]}"
    # tshark asks whether non-root users may capture; the noninteractive answer is "no".
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || { as_root apt-get update -q >/dev/null \
             && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}

setup_python() {
    if ! command -v "$PYTHON" >/dev/null; then
        say "$PYTHON not found: install Python 3.11 (e.g. apt-get install python3.11 python3.11-venv)"
        exit 1
    fi
    [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
    local stamp="$VENV/.requirements.sha256"
    local want
    want=$(sha256sum requirements.lock | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python packages from requirements.lock"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
            -r requirements.lock
        echo "$want" > "$stamp"
    fi
}

setup_frontend() {
    # The dashboard's browser libraries come from the npm registry at the versions
    # package-lock.json pins, into node_modules/ (never into the repository).
    [ -f package-lock.json ] || return 0
    if ! command -v npm >/dev/null; then
        install_system_packages "${SYSTEM_PACKAGES_UP[@]}"
    fi
    local stamp="node_modules/.package-lock.sha256"
    local want
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing front-end packages from package-lock.json"
        npm ci --no-audit --no-fund --loglevel=error >/dev/null
        echo "$want" > "$stamp"
    fi
}

setup_database() {
    mkdir -p var
    "$VENV/bin/python" manage.py migrate --no-input -v 0
}

case "${1:-}" in
    up)
        shift
        setup_python
        setup_frontend
        setup_database
        exec "$VENV/bin/python" manage.py runsystem "$@"
        ;;
    test)
        shift
        install_system_packages "${SYSTEM_PACKAGES_TEST[@]}"
        setup_python
        setup_frontend
        say "ruff"
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        say "mypy trading/"
        "$VENV/bin/mypy" trading
        say "pytest"
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    setup)
        install_system_packages "${SYSTEM_PACKAGES_TEST[@]}"
        setup_python
        setup_frontend
        setup_database
        ;;
    *)
        echo "usage: ./desk.sh up [runsystem options] | test [pytest options] | setup" >&2
        exit 2
        ;;
esac
