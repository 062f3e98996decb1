"""A real ``apicron serve`` fires on its own clock, and survives ``kill -9``.

DESIGN.md: never lose or double-fire an occurrence. The server is killed during a
one-per-second schedule with calls in flight, then restarted: no scheduled time has two
executions, none stays RUNNING, every occurrence of the window is SUCCEEDED or MISSED.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import World
from tests.servers import SECRET_KEY, ApicronProcess
from tests.test_gateway import Backend


def all_executions(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/v1/tasks/{task_id}/executions",
                          params={"offset": len(items), "limit": 500}).json()
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            return items


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def db_env(database_url: str | None) -> dict[str, str]:
    if database_url is None:
        return {}
    return {"APICRON_DATABASE_URL": database_url, "APICRON_SECRET_KEY": SECRET_KEY}


def test_it_fires_on_schedule_and_answers_history(
    tmp_path: Path, database_url: str | None
) -> None:
    backend = Backend().start()
    server = ApicronProcess(tmp_path / "data", db_env(database_url)).start()
    try:
        with server.client() as client:
            world = World(client)
            path = backend.path()
            app, api = world.setup(backend_url=backend.url(path), method="GET")
            task = world.task(app, api, cron_expression="* * * * * ?")
            world.ok(client.post(f"/v1/tasks/{task['id']}/start"))
            wait_for(lambda: len(backend.to(path)) >= 3, 10, "three fires")
            world.ok(client.post(f"/v1/tasks/{task['id']}/stop"))
            time.sleep(1.5)
            fired = len(backend.to(path))
            time.sleep(1.5)
            assert len(backend.to(path)) == fired  # stop means stop
            history = all_executions(client, task["id"])
            # On a loaded machine an occurrence can be due, not yet fired, when the stop
            # arrives: the stop records it MISSED saying so (issue 13: every due occurrence
            # leaves a row) and it never fires. Anything else is a fault.
            by_stop = [e for e in history if e["status"] == "MISSED"
                       and "the task was stopped" in (e.get("error_msg") or "")]
            assert len(by_stop) <= 2, by_stop
            assert {e["status"] for e in history if e not in by_stop} <= {"SUCCEEDED"}, history
            done = [e for e in history if e["status"] == "SUCCEEDED"]
            assert len(done) == fired
            one = world.ok(client.get(f"/v1/executions/{done[0]['id']}"))
            assert one["attempts"][0]["http_status"] == 200
            shown = world.ok(client.get(f"/v1/tasks/{task['id']}"))
            assert shown["last_execution"]["status"] == "SUCCEEDED"
            for received in backend.to(path):
                assert received.header("X-Apicron-Task-Id") == [task["id"]]
                assert parse(received.header("X-Apicron-Scheduled-Time")[0]).microsecond == 0
    finally:
        server.stop()
        backend.stop()


def test_kill_9_during_a_one_per_second_schedule_loses_and_doubles_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    backend = Backend().start()
    server = ApicronProcess(tmp_path / "data", db_env(database_url))
    server.start()
    try:
        with server.client() as client:
            world = World(client)
            path = f"/slow/700{backend.path()}"  # calls are in flight at any moment
            app, api = world.setup(backend_url=backend.url(path), method="GET")
            # ALLOW: the seconds missed while down are caught up at once on restart, and
            # SKIP would (rightly) skip all but one of them.
            task = world.task(app, api, cron_expression="* * * * * ?", max_retries=2,
                              overlap_policy="ALLOW")
            world.ok(client.post(f"/v1/tasks/{task['id']}/start"))
            wait_for(lambda: len(backend.to(path)) >= 4, 15, "calls before the kill")
        server.stop(signal.SIGKILL)
        killed_at = time.time()
        time.sleep(2)
        server.start()
        with server.client() as client:
            wait_for(lambda: time.time() > killed_at + 6, 10, "the schedule to go on")
            world = World(client)
            world.ok(client.post(f"/v1/tasks/{task['id']}/stop"))

            def settled() -> bool:
                return all(
                    e["status"] not in ("PENDING", "RUNNING")
                    for e in all_executions(client, task["id"])
                )

            wait_for(settled, 30, "every execution to finish")
            history = all_executions(client, task["id"])
        scheduled = Counter(e["scheduled_at"] for e in history)
        assert [t for t, n in scheduled.items() if n > 1] == []
        assert {e["status"] for e in history} <= {"SUCCEEDED", "MISSED"}, Counter(
            (e["status"], e["error_kind"]) for e in history
        )
        seconds = sorted(parse(t) for t in scheduled)
        span = int((seconds[-1] - seconds[0]).total_seconds()) + 1
        assert len(seconds) == span, "an occurrence of the window has no execution"
        # At-least-once: a call cut by the kill is retried under the same execution id.
        ids = Counter(r.header("X-Apicron-Execution-Id")[0] for r in backend.to(path))
        attempts_of = {e["id"]: e for e in history}
        for execution_id, calls in ids.items():
            assert execution_id in attempts_of
            assert calls <= 3
    finally:
        server.stop()
        backend.stop()
