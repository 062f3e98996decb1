"""Overlap policies BUFFER_ONE and CANCEL_PREVIOUS (issue 18): a slow real backend on
loopback, the driven clock, every occurrence leaving exactly one row."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from apicron.domain.models import FINAL_STATUSES
from apicron.engine.overlap import ALREADY_BUFFERED, BUFFERED_NOTE
from apicron.services import tasks
from tests.engine_harness import START, Harness, scenario


def finished(h: Harness, task_id: str, count: int) -> bool:
    """The first ``count`` occurrences have their final row."""
    history = h.history(task_id)
    return len(history) >= count and all(e.status in FINAL_STATUSES for e in history[:count])


async def tick(h: Harness, times: int) -> None:
    """Move the clock a second at a time, giving the engine real time to fire meanwhile."""
    for _ in range(times):
        h.clock.advance(timedelta(seconds=1))
        await asyncio.sleep(0.3)


@scenario
async def test_buffer_one_runs_one_waiting_occurrence_after_the_current_and_skips_more(
    h: Harness,
) -> None:
    # Slow enough that the three ticks below happen while START's call is held, however
    # loaded the machine (what is asserted holds whatever the timing: see the second test).
    h.backend.delay = 4.0
    task_id = h.task(h.api(timeout_ms=10000), overlap_policy="BUFFER_ONE")
    await h.eventually(lambda: len(h.backend.received) == 1, limit=10)
    await tick(h, 3)  # START+1 waits; START+2 and START+3 find one waiting
    await h.eventually(lambda: finished(h, task_id, 4), limit=30)
    await h.settle()
    history = h.history(task_id)
    assert [e.scheduled_at for e in history] == [START + timedelta(seconds=s) for s in range(4)]
    assert [e.status for e in history] == ["SUCCEEDED", "SUCCEEDED", "SKIPPED", "SKIPPED"]
    assert history[1].note == BUFFERED_NOTE
    assert {e.error_msg for e in history[2:]} == {ALREADY_BUFFERED}
    first, second = h.backend.received
    assert second["headers"]["X-Apicron-Scheduled-Time"].startswith("2027-03-01T08:00:01")
    # The waiting one was sent only once the first had been answered (held 4 s).
    assert second["at"] - first["at"] >= 4.0


@scenario
async def test_buffer_one_keeps_the_waiting_occurrence_through_more_ticks(h: Harness) -> None:
    """Nothing is lost and nothing fires twice when the backend stays slow for long."""
    h.backend.delay = 1.0
    task_id = h.task(h.api(timeout_ms=5000), overlap_policy="BUFFER_ONE")
    await h.eventually(lambda: len(h.backend.received) == 1, limit=10)
    await tick(h, 8)
    await h.eventually(lambda: finished(h, task_id, 9), limit=30)
    await h.settle()
    history = h.history(task_id)
    assert [e.scheduled_at for e in history] == [START + timedelta(seconds=s) for s in range(9)]
    ran = [e for e in history if e.status == "SUCCEEDED"]
    assert len(ran) == len(h.backend.received) >= 2
    assert {e.status for e in history} <= {"SUCCEEDED", "SKIPPED"}
    sent = [r["headers"]["X-Apicron-Scheduled-Time"] for r in h.backend.received]
    assert len(sent) == len(set(sent))  # no occurrence called twice


@scenario
async def test_a_stop_records_the_waiting_occurrence_missed_and_it_never_runs(
    h: Harness,
) -> None:
    h.backend.delay = 4.0
    task_id = h.task(h.api(timeout_ms=10000), overlap_policy="BUFFER_ONE")
    await h.eventually(lambda: len(h.backend.received) == 1, limit=10)
    await tick(h, 1)  # START+1 waits for START's execution
    await h.eventually(lambda: len(h.history(task_id)) == 2, limit=10)
    tasks.stop_task(h.ctx, task_id, "paused: test")
    await h.eventually(lambda: finished(h, task_id, 2), limit=30)
    await asyncio.sleep(0.5)  # were it to run after the stop, it would be sent by now
    await h.settle()
    history = h.history(task_id)
    assert [e.scheduled_at for e in history] == [START, START + timedelta(seconds=1)]
    assert [e.status for e in history] == ["SUCCEEDED", "MISSED"]
    assert len(h.backend.received) == 1


@scenario
async def test_cancel_previous_cancels_the_running_execution_and_runs_the_new_one(
    h: Harness,
) -> None:
    h.backend.delay = 4.0
    task_id = h.task(h.api(timeout_ms=10000), overlap_policy="CANCEL_PREVIOUS", max_retries=2)
    await h.eventually(lambda: len(h.backend.received) == 1, limit=10)
    await tick(h, 1)
    await h.eventually(lambda: len(h.backend.received) == 2, limit=10)
    await h.eventually(
        lambda: [e.status for e in h.history(task_id)] == ["FAILED", "SUCCEEDED"], limit=30)
    cancelled, replacement = h.history(task_id)
    assert cancelled.scheduled_at == START
    assert (cancelled.error_kind, len(cancelled.attempts)) == ("CANCELLED", 1)
    assert cancelled.attempts[0].error_kind == "CANCELLED"
    assert "2027-03-01T08:00:01Z replaced it" in (cancelled.error_msg or "")
    assert "CANCEL_PREVIOUS" in (cancelled.error_msg or "")
    assert replacement.scheduled_at == START + timedelta(seconds=1)
    assert len(replacement.attempts) == 1
    assert len(h.backend.received) == 2  # the cancelled one was not retried
