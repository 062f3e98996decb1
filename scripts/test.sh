#!/usr/bin/env bash
# Installs everything the tests need into .venv (the `dev` extra: the server, the PostgreSQL
# driver, the test tools and the checkers) and runs the whole suite:
# ruff, mypy --strict, then pytest in two parts (real servers on loopback, real SQLite files, a real
# PostgreSQL server).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# Debian packages the tests use, installed when missing: chromium for the console tests
# (never a downloaded browser); postgresql for the store/engine/API suites on PostgreSQL
# and the multi-node tests (they start a throw-away cluster of their own, see
# tests/pg_cluster.py); curl, nginx and wrk for the peers of `python -m bench --quick`.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v curl >/dev/null || missing+=(curl)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
# node and npm: the TypeScript client generated from /openapi.json and compiled
# (tests/test_openapi_document.py).
command -v npm >/dev/null || missing+=(npm)
# systemd-analyze: deploy/apicron.service is verified (tests/test_deploy.py).
command -v systemd-analyze >/dev/null || missing+=(systemd)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# From the npm registry alone, pinned by the lock file: @hey-api/openapi-ts (a generator
# in JavaScript; openapi-generator-cli would download its Java generator from Maven
# Central) and typescript.
npm ci --prefix tests/openapi_client --no-audit --no-fund --loglevel=error
# axe-core, injected into every console page by tests/test_console_accessibility.py.
npm ci --prefix tests/axe --no-audit --no-fund --loglevel=error

.venv/bin/ruff check src tests bench
.venv/bin/mypy --strict src bench tests
# Most of the suite on two workers (pytest-xdist, one file per worker at a time), then the
# tests marked serial alone: several real processes firing hundreds of calls a second, or a
# 2 s misfire grace, beside other tests would measure the machine, not apicron. Both parts
# run whatever the first gives; the exit status is the first failure's (5, nothing collected
# in a part, is no failure: arguments may name files of one part only).
status=0
part() {
    local rc=0
    .venv/bin/pytest "$@" || rc=$?
    if ((rc != 0 && rc != 5 && status == 0)); then status=$rc; fi
}
part -n "${APICRON_TEST_WORKERS:-2}" --dist loadfile -m "not serial" "$@"
part -p no:xdist -m serial "$@"
exit "$status"
