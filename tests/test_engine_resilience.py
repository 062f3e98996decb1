"""The engine never stops firing without saying so (issue 13 §1).

One bad row or one vanished task costs at most that row, never the loop; what truly cannot
go on ends the engine loudly. Driven clock, real store (SQLite and PostgreSQL), real
gateway pipeline, real backend on loopback.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from apicron.domain.models import TaskCreate
from apicron.engine.scheduler import EngineFailed
from apicron.services import executions, tasks
from apicron.store.tables import tasks as task_rows
from tests.conftest import unique
from tests.engine_harness import START, Harness


def every_second_is_there(h: Harness, task_id: str) -> None:
    """The task fired at every second from its first occurrence to now, each SUCCEEDED."""
    history = h.history(task_id)
    assert history, "the task never fired"
    first = history[0].scheduled_at
    expected = int((h.clock.now() - first).total_seconds()) + 1
    assert [(e.scheduled_at, e.status) for e in history] == [
        (first + timedelta(seconds=s), "SUCCEEDED") for s in range(expected)
    ]


def create_unstarted(h: Harness, owned: dict[str, str]) -> str:
    spec = {"name": unique("task"), "trigger_type": "CRON", "cron_expression": "0 0 * * * ?",
            "effective_time": START, **owned}
    return tasks.create_task(h.ctx, TaskCreate.model_validate(spec)).id


def engine_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("apicron") and r.levelno >= logging.ERROR]


def test_deleting_a_task_whose_manual_run_is_in_flight_keeps_the_engine_firing(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13's example: run now on a slow backend, delete the task while the call is in
    flight. The result has nowhere to go (the history went with the task): it is dropped
    quietly, and every other task goes on firing without a gap."""

    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            h.backend.delays = {"/slow": 1.5}
            doomed = create_unstarted(h, h.api(backend_path="/slow", timeout_ms=5000))
            executions.run_task(h.ctx, doomed)
            await h.eventually(lambda: len(h.backend.received) == 1)
            tasks.delete_task(h.ctx, doomed)
            healthy = h.task(h.api())
            await h.advance(6)
            await h.settle(limit=3)
            await h.advance(4)
            every_second_is_there(h, healthy)
            assert h.engine is not None and h.engine.running

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert engine_errors(caplog) == []


def test_stopping_then_deleting_a_task_whose_call_is_in_flight_keeps_the_engine_firing(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            h.backend.delays = {"/slow": 1.5}
            doomed = h.task(h.api(backend_path="/slow", timeout_ms=5000),
                            cron_expression="0 0 * * * ?")
            healthy = h.task(h.api())
            await h.advance(0.5, step=0.5)
            h.clock.advance(timedelta(seconds=0.5))
            await h.eventually(lambda: any(r["path"] == "/slow" for r in h.backend.received))
            tasks.stop_task(h.ctx, doomed)
            tasks.delete_task(h.ctx, doomed)
            await h.advance(5)
            await h.settle(limit=3)
            await h.advance(4)
            every_second_is_there(h, healthy)

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert engine_errors(caplog) == []


def test_a_task_row_that_cannot_be_read_is_stopped_and_named_and_the_rest_fire(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad row costs that row: a started task whose stored request no longer reads as
    a request (hand-edited, or written by a buggy version) is stopped with its reason
    recorded and one line naming it; the planning of every other task goes on."""

    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            owned = h.api()
            bad = h.task(owned)
            healthy = h.task(owned)
            with h.ctx.store.write() as q:
                q.connection.execute(
                    update(task_rows).where(task_rows.c.id == bad)
                    .values(request={"headers": "not a list"})
                )
            await h.advance(5)
            every_second_is_there(h, healthy)
            with h.ctx.store.read() as q:
                status, reason = q.connection.execute(
                    text("SELECT status, stop_reason FROM tasks WHERE id = :id"), {"id": bad}
                ).one()
            assert status == "STOPPED"
            assert "cannot be read" in reason

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    named = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(named) == 1 and named[0].levelno == logging.ERROR


def test_an_engine_that_cannot_go_on_fails_loudly_instead_of_idling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A schema broken under the engine is not a database outage to wait out: after the
    give-up time of failed passes the engine ends with one clear line, so that the
    process exits non-zero and a supervisor restarts it."""

    async def main() -> None:
        async with Harness(tmp_path) as h:
            await h.stop_engine()
            await h.start_engine(give_up_after=timedelta(seconds=1.5))
            h.task(h.api())
            with h.ctx.store.write() as q:
                q.connection.execute(text("DROP TABLE attempts"))
                q.connection.execute(text("DROP TABLE executions"))
            engine, run = h.engine, h._run
            assert engine is not None and run is not None
            h.clock.advance(timedelta(seconds=1))
            with pytest.raises(EngineFailed, match="no such table"):
                await asyncio.wait_for(run, 20)
            assert not engine.running
            h.engine = None

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    final = [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert len(final) == 1 and "giving up" in final[0].getMessage()
