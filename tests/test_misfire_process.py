"""Misfire RUN_ONCE on a real server (issue 13 §2): stopped with SIGTERM, or frozen with
SIGSTOP, across one occurrence, apicron still makes that call once, late, and says so.

A short grace (``APICRON_MISFIRE_GRACE=2``) and a task every 20 s stand in for the daily
job and the 60 s grace of a real deployment; the rule is the same.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.conftest import World
from tests.servers import ApicronProcess
from tests.threaded_server import ThreadedServer

GRACE = {"APICRON_MISFIRE_GRACE": "2"}


class Recorder(ThreadedServer):
    """Answers 200 and keeps the scheduled time of every call it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.scheduled: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.scheduled.append(request.headers.get("X-Apicron-Scheduled-Time", ""))
        return web.Response(text="ok")


@pytest.fixture
def backend() -> Iterator[Recorder]:
    server: Recorder = Recorder().start()
    yield server
    server.stop()


def history(admin: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    items = admin.get(f"/v1/tasks/{task_id}/executions", params={"limit": 500}).json()["items"]
    return sorted(items, key=lambda e: e["scheduled_at"])


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_until(moment: datetime) -> None:
    time.sleep(max((moment - datetime.now(UTC)).total_seconds(), 0))


def start_task(node: ApicronProcess, backend: Recorder) -> tuple[httpx.Client, str]:
    admin = node.client()
    world = World(admin)
    app, api = world.setup(backend_url=backend.url("/tick"))
    task = world.task(app, api, cron_expression="0/20 * * * * ?")
    world.ok(admin.post(f"/v1/tasks/{task['id']}/start"))
    return admin, task["id"]


def first_success(admin: httpx.Client, task_id: str) -> datetime:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [e for e in history(admin, task_id) if e["status"] == "SUCCEEDED"]
        if done:
            return parse(done[0]["scheduled_at"])
        time.sleep(0.2)
    raise AssertionError("the task never fired")


def check_every_occurrence(rows: list[dict[str, Any]], first: datetime, last: datetime) -> None:
    """One row per occurrence every 20 s from ``first`` to ``last``, none twice."""
    times = [parse(e["scheduled_at"]) for e in rows if first <= parse(e["scheduled_at"]) <= last]
    expected = []
    at = first
    while at <= last:
        expected.append(at)
        at += timedelta(seconds=20)
    assert times == expected


@pytest.mark.parametrize("interruption", ["SIGTERM", "SIGSTOP"])
def test_an_occurrence_missed_by_a_stopped_or_frozen_server_runs_once_late(
    tmp_path: Path, backend: Recorder, interruption: str
) -> None:
    node = ApicronProcess(tmp_path / "data", GRACE).start()
    clients = ExitStack()
    try:
        admin, task_id = start_task(node, backend)
        clients.callback(admin.close)
        first = first_success(admin, task_id)
        missed = first + timedelta(seconds=20)
        # Interrupted 4 s before the next occurrence, back 8 s after it: past the grace,
        # with 12 s for the restart before the one after (else that one is the latest).
        wait_until(missed - timedelta(seconds=4))
        assert node.process is not None
        if interruption == "SIGSTOP":
            node.process.send_signal(signal.SIGSTOP)
            wait_until(missed + timedelta(seconds=8))
            node.process.send_signal(signal.SIGCONT)
        else:
            node.stop()
            wait_until(missed + timedelta(seconds=8))
            node.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = {parse(e["scheduled_at"]): e for e in history(admin, task_id)}
            if rows.get(missed, {}).get("status") == "SUCCEEDED" and max(rows) > missed:
                break
            time.sleep(0.3)
        rows_list = history(admin, task_id)
        late = {parse(e["scheduled_at"]): e for e in rows_list}[missed]
        told = [(e["scheduled_at"], e["status"], e["error_msg"], e["note"]) for e in rows_list]
        assert late["status"] == "SUCCEEDED", told
        cause = ("apicron was not running at its time" if interruption == "SIGTERM"
                 else "the engine was behind schedule")
        assert late["note"].startswith("run ") and cause in late["note"], late
        check_every_occurrence(rows_list, first, max(parse(e["scheduled_at"]) for e in rows_list))
        assert backend.scheduled.count(missed.strftime("%Y-%m-%dT%H:%M:%SZ")) == 1
        admin.post(f"/v1/tasks/{task_id}/stop")
    finally:
        node.stop()
        clients.close()
