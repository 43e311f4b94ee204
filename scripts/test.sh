#!/usr/bin/env bash
# Install everything the test suite needs, then run it: ruff, the spec check, and pytest
# (SQLite and PostgreSQL storage tests, real HTTP, headless Chromium page tests, the specs'
# lint with Spectral and Redocly CLI from .tools/).
# Usage: scripts/test.sh [pytest arguments]
# The tests run in one pytest process per CPU (pytest-xdist; each test has its own databases,
# ports and files): UNIQODO_MOCK_TEST_PROCESSES=1 runs them in one.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# System packages: Debian's chromium for the page tests (a browser download is not possible).
if ! command -v chromium >/dev/null 2>&1; then
    say "installing chromium (Debian package)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
fi

# PostgreSQL on 127.0.0.1:5432 for the storage tests on both databases.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "starting PostgreSQL"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    fi
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi

say "installing the project and its test dependencies into .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
# (this machine's pip configuration names local package folders that may not exist: pip warns
# about each on every run; those lines are noise, pip's own failures still end the script)
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# Node.js and npm for the spec linters (Spectral, Redocly CLI), installed once into .tools/.
if ! command -v npm >/dev/null 2>&1; then
    say "installing nodejs and npm (Debian packages)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
fi
say "spec linters into .tools (Spectral, Redocly CLI)"
scripts/install-spec-linters.sh

say "ruff"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks

say "mypy"
.venv/bin/mypy

say "pytest"
mkdir -p reports
exec .venv/bin/python -m pytest -n "${UNIQODO_MOCK_TEST_PROCESSES:-auto}" \
    --junitxml=reports/junit.xml "$@"
