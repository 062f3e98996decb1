"""Overlap policies BUFFER_ONE and CANCEL_PREVIOUS when the running execution is on the
other node: two engines on one PostgreSQL database, each with its own driven clock.

Engine B fires 08:00:10 and holds its call (the backend waits for the test's gate); with
B's clock left there, only engine A (its clock moved on) can plan 08:00:15, so the
overlap is across nodes by construction. Nothing is timed: the gate is opened by the test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from apicron.domain.models import Execution
from apicron.engine.overlap import ALREADY_BUFFERED, BUFFERED_NOTE, REMOTE_PREVIOUS_NOTE
from apicron.services import executions
from tests.engine_harness import START, Harness

EVERY_5_S = "0/5 * * * * ?"


def at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


def rows(h: Harness, task_id: str) -> dict[datetime, Execution]:
    page = executions.list_executions(h.ctx, task_id, status=None, start=None, end=None,
                                      offset=0, limit=100)
    return {e.scheduled_at: e for e in page.items}


async def b_holds_the_first_call(a: Harness, b: Harness, **fields: object) -> str:
    """The task (every 5 s from 08:00:10) and 08:00:10 running on B, its call held."""
    a.backend.hold_first = 1
    task_id = a.task(a.api(timeout_ms=60_000), cron_expression=EVERY_5_S,
                     effective_time=at(10), **fields)
    b.clock.advance(timedelta(seconds=10))  # B alone reaches 08:00:10; A stays at 08:00:00
    await a.eventually(lambda: len(a.backend.received) == 1, limit=30)
    assert rows(a, task_id)[at(10)].status == "RUNNING"
    return task_id


async def move_a_to(a: Harness, seconds: int) -> None:
    """A's clock to 08:00:<seconds>, a second at a time (A's own calls settle each step)."""
    await a.advance((at(seconds) - a.clock.now()).total_seconds())


def received(a: Harness) -> list[str]:
    return [r["headers"]["X-Apicron-Scheduled-Time"] for r in a.backend.received]


def two_nodes(
    test: Callable[[Harness, Harness], Awaitable[None]],
) -> Callable[[Path, str | None], None]:
    """Run ``test(a, b)`` with two engines on one new PostgreSQL database."""

    def run(tmp_path: Path, database_url: str | None) -> None:
        if database_url is None:
            pytest.skip("several engines share a PostgreSQL database")

        async def main() -> None:
            async with Harness(tmp_path / "a", database_url) as a, \
                    Harness(tmp_path / "b", database_url) as b:
                await test(a, b)  # B calls the API A made: A's backend

        asyncio.run(main())

    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


async def _buffer_one(a: Harness, b: Harness) -> None:
    task_id = await b_holds_the_first_call(a, b, overlap_policy="BUFFER_ONE")
    await move_a_to(a, 15)  # A plans 08:00:15: B's execution runs, so it waits
    await move_a_to(a, 21)  # 08:00:20 due too: one already waits, so it is SKIPPED
    history = rows(a, task_id)
    told = sorted((e.scheduled_at, e.status, e.error_msg) for e in history.values())
    assert history[at(15)].status == "PENDING", told
    assert history[at(20)].status == "SKIPPED"
    assert history[at(20)].error_msg == ALREADY_BUFFERED
    assert received(a) == ["2027-03-01T08:00:10Z"]
    opened = time.monotonic()
    a.backend.gate.set()
    await a.eventually(lambda: rows(a, task_id)[at(10)].status == "SUCCEEDED", limit=30)
    await move_a_to(a, 23)  # A looks again (every second) and runs the waiting one
    await a.eventually(lambda: rows(a, task_id)[at(15)].status == "SUCCEEDED", limit=30)
    history = rows(a, task_id)
    assert history[at(15)].note == BUFFERED_NOTE
    assert received(a) == ["2027-03-01T08:00:10Z", "2027-03-01T08:00:15Z"]
    assert a.backend.received[1]["at"] >= opened  # only after B's call finished


async def _cancel_previous(a: Harness, b: Harness) -> None:
    task_id = await b_holds_the_first_call(a, b, overlap_policy="CANCEL_PREVIOUS")
    await move_a_to(a, 16)
    await a.eventually(lambda: rows(a, task_id)[at(15)].status == "SUCCEEDED", limit=30)
    history = rows(a, task_id)
    # B's execution cannot be cancelled from A: the new one runs beside it, and says so.
    assert history[at(15)].note == REMOTE_PREVIOUS_NOTE
    assert history[at(10)].status == "RUNNING"
    a.backend.gate.set()
    await a.eventually(lambda: rows(a, task_id)[at(10)].status == "SUCCEEDED", limit=30)
    assert received(a) == ["2027-03-01T08:00:10Z", "2027-03-01T08:00:15Z"]


test_buffer_one_waits_for_the_execution_running_on_the_other_node = two_nodes(_buffer_one)
test_cancel_previous_says_why_it_could_not_cancel_the_other_nodes_run = two_nodes(
    _cancel_previous)
