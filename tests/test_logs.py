"""Logs: one format for apicron and uvicorn (``APICRON_LOG_FORMAT=json``: one object a
line, with level, logger, node id and the execution a line concerns), the management API's
access log only at debug, and the gateway's access log without credentials."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import World, unique
from tests.servers import ADMIN_TOKEN, ApicronProcess
from tests.test_gateway import Backend, hw


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def json_lines(process: ApicronProcess) -> list[dict[str, Any]]:
    """Every line of the process's output, each parsed as JSON (fails on any other line)."""
    lines = []
    for line in process.log().splitlines():
        if line.strip():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"not a JSON line: {line!r}")
    return lines


def finished(client: httpx.Client, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        execution: dict[str, Any] = client.get(f"/v1/executions/{execution_id}").json()
        if execution["status"] not in ("PENDING", "RUNNING"):
            return execution
        time.sleep(0.1)
    pytest.fail(f"execution {execution_id} did not finish")


def test_json_logs_carry_level_logger_node_and_execution(
    tmp_path: Path, backend: Backend
) -> None:
    process = ApicronProcess(tmp_path / "data", {"APICRON_LOG_FORMAT": "json",
                                                 "APICRON_ADMIN_TOKEN": ""}).start()
    try:
        with process.client(token=(tmp_path / "data" / "admin-token").read_text().strip()
                            ) as client:
            world = World(client)
            app, api = world.setup(backend_url=backend.url(f"/status/500/{unique('log')}"))
            task = world.task(app, api, max_retries=0)
            queued = world.ok(client.post(f"/v1/tasks/{task['id']}/run"), 202)
            assert finished(client, queued["id"])["status"] == "FAILED"
            node_id = client.get("/healthz").json()["node_id"]
            # A call to the gateway carrying credentials in headers and in the query string.
            with httpx.Client(base_url=f"http://127.0.0.1:{process.gateway_port}") as gw:
                answered = gw.post(f"{api['path']}?Signature=sig-in-query&token=tok-in-query",
                                   headers={**hw(app), "Authorization": "Bearer bearer-xyz"})
            assert answered.status_code == 500  # the backend's answer, passed through
    finally:
        process.stop()
    lines = json_lines(process)
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= set(line), line
    started = [line for line in lines if "listening (role all)" in line["message"]]
    assert len(started) == 1 and started[0]["node_id"] == node_id
    assert started[0]["level"] == "INFO" and started[0]["logger"] == "apicron"
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    failed = [line for line in lines if "failed on attempt 1" in line["message"]]
    assert len(failed) == 1, lines
    assert failed[0]["logger"] == "apicron.engine"
    assert (failed[0]["task_id"], failed[0]["execution_id"]) == (task["id"], queued["id"])
    assert failed[0]["node_id"] == node_id
    access = [line for line in lines if line["logger"] == "apicron.gateway.access"]
    assert len(access) == 1
    assert {key: access[0][key] for key in ("method", "path", "status", "app_id", "api_id")} == {
        "method": "POST", "path": api["path"], "status": 500, "app_id": app["id"],
        "api_id": api["id"]}
    # The management API's requests are not logged at info; no credential is logged at all.
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    text = process.log()
    for secret in (app["secret"], "sig-in-query", "tok-in-query", "bearer-xyz",
                   (tmp_path / "data" / "admin-token").read_text().strip()):
        assert secret not in text


def test_the_management_api_access_log_is_there_at_debug_in_the_same_format(
    tmp_path: Path,
) -> None:
    process = ApicronProcess(tmp_path / "data", {"APICRON_LOG_LEVEL": "debug"}).start()
    try:
        with process.client() as client:
            assert client.get("/v1/apps", params={"limit": 3}).status_code == 200
    finally:
        process.stop()
    access = [line for line in process.log().splitlines() if " uvicorn.access " in line]
    assert any('"GET /v1/apps?limit=3 HTTP/1.1" 200' in line for line in access), access
    # The text format: "<date> <time> <LEVEL> <logger> <message>", the same for every line.
    assert all(line.split(" ")[2] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
               for line in process.log().splitlines() if line.strip()), process.log()
    assert ADMIN_TOKEN not in process.log()
