"""schemathesis over /openapi.json of a real server, with and without the admin token.

With the token: every phase (examples, coverage, fuzzing, stateful) over every operation,
no 5xx and every answer matching the schema. The stateful phase follows the document's own
OpenAPI links (apicron.api.openapi_links: app → group → API → publish → task → run →
execution, and grants); schemathesis' guessed links are turned off so its budget goes to
those. positive_data_acceptance is excluded on purpose: many rules (a valid cron
expression, a published API, a grant) cannot be expressed in JSON Schema, so schema-valid
requests are rightly refused with 400.

Without the token (schemathesis still sends made-up bearer tokens, or none): every
documented operation but /healthz answers 401, never a 5xx; read from a HAR report of every
request made.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability_helpers import assert_healthy, log_mark
from tests.servers import ADMIN_TOKEN, ApicronProcess

CONFIG = """
[phases.stateful]
max-steps = 12

[phases.stateful.inference]
algorithms = []
"""


def schemathesis(
    server: ApicronProcess, work: Path, *args: str, exclude: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """schemathesis run over the server's document; ``exclude``: operationIds left out."""
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is a test dependency"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "schemathesis.toml"
    config.write_text(CONFIG)
    return subprocess.run(
        [
            st, "--config-file", str(config), "--no-color", "run", f"{server.url}/openapi.json",
            # One worker: with two, hypothesis parses schemathesis' sources for a filter's
            # description in two threads at once, and CPython 3.11.7's parser is not
            # thread-safe there ("AST constructor recursion depth mismatch", fixed in
            # the 3.11 releases after 3.11.7: python/cpython#106905): a runtime error in
            # whichever operation meets it.
            "--generation-database", "none", "--workers", "1", "--seed", "20261125",
            *(option for operation in exclude
              for option in ("--exclude-operation-id", operation)),
            *args,
        ],
        capture_output=True, text=True, timeout=300, check=False, cwd=work,
    )


def documented(server: ApicronProcess) -> list[tuple[str, re.Pattern[str]]]:
    document: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    return [
        (method.upper(), re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"))
        for path, item in document["paths"].items()
        for method in item
    ]


def test_the_api_honours_its_schema_statefully_with_the_token(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    server = fresh_server
    mark = log_mark(server)
    links = httpx.get(f"{server.url}/openapi.json").json()["paths"]["/v1/apps"]["post"]
    assert "getApp" in links["responses"]["201"]["links"]

    result = schemathesis(
        server, tmp_path / "with-token",
        "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--max-examples", "10",
        # schemathesis 4.32.5's coverage phase reports ST201 ("schema-violating request
        # accepted: Missing required property: name") for PUT /v1/calendars/{id} with a
        # body without "name", though the served CalendarUpdate schema requires no property
        # and the document has no link into that operation; its false positives of this
        # family are known upstream (schemathesis#3949, #3954). It is left out here only;
        # the anonymous run below still covers it, and tests/test_calendars_api.py its PUT.
        exclude=("updateCalendar",),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    covered = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", output)
    assert covered is not None, output[-4000:]
    assert int(covered[2]) >= 30, "the document's links are what the stateful phase follows"
    assert int(covered[1]) >= 1, output[-4000:]
    assert_healthy(server, mark)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[ApicronProcess]:
    """The token is checked before any storage is touched: one database kind is enough."""
    process = ApicronProcess(tmp_path / "data").start()
    yield process
    process.stop()


def test_without_the_token_every_operation_but_healthz_is_401(
    sqlite_server: ApicronProcess, tmp_path: Path
) -> None:
    server = sqlite_server
    mark = log_mark(server)
    har = tmp_path / "anonymous.har"
    result = schemathesis(
        server, tmp_path / "anonymous",
        "--checks", "not_a_server_error,status_code_conformance",
        "--phases", "coverage",
        "--report", "har", "--report-har-path", str(har),
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-8000:]
    operations = documented(server)
    seen: set[str] = set()
    for entry in json.loads(har.read_text())["log"]["entries"]:
        method = entry["request"]["method"]
        path = httpx.URL(entry["request"]["url"]).path
        status = entry["response"]["status"]
        assert status < 500, (method, path, status)
        matched = [p.pattern for m, p in operations if m == method and p.match(path)]
        if not matched:
            continue  # a method or path the document does not have: 404/405 is fine
        seen.add(f"{method} {matched[0]}")
        expected = 200 if path in ("/healthz", "/livez", "/readyz") else 401
        assert status == expected, (method, path, status, entry["response"]["content"])
    assert len(seen) == len(operations), sorted(seen)
    assert_healthy(server, mark)
