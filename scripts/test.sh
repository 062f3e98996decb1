#!/usr/bin/env bash
# Installs everything the tests need into .venv and runs the whole suite:
# ruff, mypy --strict, then pytest (real servers on loopback, real SQLite files).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# The console tests drive Debian's chromium (never a downloaded browser).
command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

.venv/bin/ruff check src tests bench
.venv/bin/mypy --strict src
.venv/bin/pytest "$@"
