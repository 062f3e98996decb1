"""A task's own call policy (issue 18): its timeout instead of the API's, its retry
backoff instead of the engine's. Driven clock, real store (SQLite and PostgreSQL), real
backend on loopback; the timeout test holds the backend far longer than the timeout, and
asserts no durations.
"""

from __future__ import annotations

from datetime import timedelta

from apicron.services import executions
from tests.engine_harness import Harness, scenario


@scenario
async def test_the_tasks_timeout_replaces_the_apis(h: Harness) -> None:
    h.backend.delay = 3.0
    owned = h.api(timeout_ms=30000)
    short = h.task(owned, cron_expression="0 0 9 * * ?", timeout_ms=100)
    # Fires at 09:00 (the driven clock); the backend holds the call for 3 s of real time.
    h.clock.advance(timedelta(minutes=59, seconds=59))
    await h.advance(1)
    await h.eventually(lambda: bool(executions.list_executions(
        h.ctx, short, status="FAILED", start=None, end=None, offset=0, limit=5).items))
    (execution,) = executions.list_executions(
        h.ctx, short, status=None, start=None, end=None, offset=0, limit=5).items
    (attempt,) = execution.attempts
    assert attempt.error_kind == "TIMEOUT"
    assert "within 100 ms (the task's timeout_ms)" in (attempt.error_msg or "")


@scenario
async def test_the_tasks_backoff_cap_bounds_the_wait_before_a_retry(h: Harness) -> None:
    """Retry-After: 3600 is honoured up to the cap: the engine's 60 s, the task's 200 ms."""
    h.backend.responses = [(503, {"Retry-After": "3600"}, "busy")] * 2
    owned = h.api()
    capped = h.task(owned, cron_expression="0 0 9 * * ?", max_retries=1,
                    retry_backoff_base_ms=100, retry_backoff_cap_ms=200)
    default = h.task(owned, cron_expression="0 0 9 * * ?", max_retries=1)
    h.clock.advance(timedelta(minutes=59, seconds=59))
    await h.advance(1)
    await h.advance(5)

    def statuses(task_id: str) -> list[tuple[str, int]]:
        page = executions.list_executions(h.ctx, task_id, status=None, start=None, end=None,
                                          offset=0, limit=5)
        return [(e.status, len(e.attempts)) for e in page.items]

    await h.eventually(lambda: statuses(capped) == [("SUCCEEDED", 2)])
    assert statuses(default) == [("RUNNING", 1)]  # waiting out its 60 s
    await h.advance(60, step=5)
    await h.eventually(lambda: statuses(default) == [("SUCCEEDED", 2)])
