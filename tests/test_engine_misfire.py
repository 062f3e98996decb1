"""A missed run is run once, however late (issue 13 §2; DESIGN.md, Misfire).

RUN_ONCE runs the latest missed occurrence once, late, and records the others MISSED,
whether the occurrence was planned before apicron stopped or never planned; SKIP records
all MISSED. The grace period only decides what is a misfire, not whether RUN_ONCE runs.
Every due occurrence leaves a row with a true reason. Driven clock, real store (SQLite
and PostgreSQL), real backend on loopback.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apicron.domain.models import Execution
from apicron.services import tasks
from tests.engine_harness import START, Harness, scenario


def at(hours: int = 0, minutes: int = 0, seconds: int = 0) -> datetime:
    return START + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def received_times(h: Harness) -> list[str]:
    return [r["headers"]["X-Apicron-Scheduled-Time"] for r in h.backend.received]


async def down(h: Harness, for_: timedelta) -> None:
    """apicron is not running for ``for_`` (its engine stopped, the clock moving on)."""
    await h.stop_engine()
    h.clock.advance(for_)
    await h.start_engine()
    await h.settle()


def by_time(history: list[Execution]) -> dict[datetime, Execution]:
    return {e.scheduled_at: e for e in history}


@scenario
async def test_a_daily_run_missed_by_downtime_runs_once_late(h: Harness) -> None:
    """Issue 13's example: `0 0 9 * * ?`, apicron down from 08:01 to 10:01: the backend
    still gets its daily run, at 10:01, once, and the execution says why it was late."""
    task_id = h.task(h.api(), cron_expression="0 0 9 * * ?")
    await h.advance(60)
    await down(h, timedelta(hours=2))
    history = h.history(task_id)
    assert [(e.scheduled_at, e.status) for e in history] == [(at(1), "SUCCEEDED")]
    note = history[0].note or ""
    assert note.startswith("run 1 h 1 min late") and "apicron was not running" in note
    assert received_times(h) == ["2027-03-01T09:00:00Z"]
    await h.advance(30)
    assert len(h.backend.received) == 1


@scenario
async def test_after_a_longer_downtime_only_the_latest_hourly_run_is_made(h: Harness) -> None:
    task_id = h.task(h.api(), cron_expression="0 0 * * * ?")
    await h.advance(60)
    await down(h, timedelta(hours=2, minutes=30))
    runs = by_time(h.history(task_id))
    assert [(t, e.status) for t, e in sorted(runs.items())] == [
        (at(0), "SUCCEEDED"), (at(1), "MISSED"), (at(2), "SUCCEEDED")]
    missed = runs[at(1)].error_msg or ""
    assert "apicron was not running at its time" in missed
    assert "RUN_ONCE runs only the latest" in missed
    assert received_times(h) == ["2027-03-01T08:00:00Z", "2027-03-01T10:00:00Z"]


@scenario
async def test_an_occurrence_planned_before_the_stop_runs_late_when_it_is_the_latest(
    h: Harness,
) -> None:
    """Planned (PENDING, handed back at the stop) but not fired: after a downtime longer
    than the grace it is still the latest missed occurrence, so it runs, once."""
    task_id = h.task(h.api(), cron_expression="0 */2 * * * ?",
                     effective_time=START + timedelta(seconds=1))
    await h.advance(119)  # 08:01:59: the 08:02:00 occurrence is planned
    assert [e.status for e in h.history(task_id)] == []
    await down(h, timedelta(seconds=91))  # back at 08:03:30
    history = h.history(task_id)
    assert [(e.scheduled_at, e.status) for e in history] == [(at(minutes=2), "SUCCEEDED")]
    assert "late" in (history[0].note or "")
    assert received_times(h) == ["2027-03-01T08:02:00Z"]


@scenario
async def test_the_latest_missed_occurrence_runs_though_the_next_one_is_planned_ahead(
    h: Harness,
) -> None:
    """Frozen (SIGSTOP) with 08:02 planned, woken at 08:03:59: the pass plans 08:04 ahead
    before it fences 08:02; a planned occurrence not yet due supersedes nothing."""
    task_id = h.task(h.api(), cron_expression="0 */2 * * * ?",
                     effective_time=START + timedelta(seconds=1))
    await h.advance(119)
    h.clock.advance(timedelta(seconds=120))  # no pass ran meanwhile: 08:03:59
    await h.settle()
    await h.advance(2)
    runs = by_time(h.history(task_id))
    assert [(t, e.status) for t, e in sorted(runs.items())] == [
        (at(minutes=2), "SUCCEEDED"), (at(minutes=4), "SUCCEEDED")]
    assert "late" in (runs[at(minutes=2)].note or "")
    assert received_times(h) == ["2027-03-01T08:02:00Z", "2027-03-01T08:04:00Z"]


@scenario
async def test_a_planned_occurrence_a_later_one_supersedes_is_missed(h: Harness) -> None:
    task_id = h.task(h.api(), cron_expression="0 */2 * * * ?",
                     effective_time=START + timedelta(seconds=1))
    await h.advance(119)
    await down(h, timedelta(minutes=4, seconds=31))  # back at 08:06:30
    runs = by_time(h.history(task_id))
    assert [(t, e.status) for t, e in sorted(runs.items())] == [
        (at(minutes=2), "MISSED"), (at(minutes=4), "MISSED"), (at(minutes=6), "SUCCEEDED")]
    assert received_times(h) == ["2027-03-01T08:06:00Z"]


@scenario
async def test_misfire_skip_records_the_missed_daily_run_and_calls_nothing(h: Harness) -> None:
    task_id = h.task(h.api(), cron_expression="0 0 9 * * ?", misfire_policy="SKIP")
    await h.advance(60)
    await down(h, timedelta(hours=2))
    history = h.history(task_id)
    assert [(e.scheduled_at, e.status) for e in history] == [(at(1), "MISSED")]
    assert history[0].error_msg == (
        "not run: apicron was not running at its time (misfire policy SKIP)")
    assert h.backend.received == []


@scenario
async def test_an_engine_frozen_past_the_grace_runs_the_latest_and_says_it_was_behind(
    h: Harness,
) -> None:
    """The process was stopped (SIGSTOP) or starved with an occurrence planned: on waking,
    the planned one is superseded by a later one due meanwhile, which runs."""
    task_id = h.task(h.api(), cron_expression="0 */2 * * * ?",
                     effective_time=START + timedelta(seconds=1))
    await h.advance(119)
    h.clock.advance(timedelta(minutes=3, seconds=1))  # no pass ran meanwhile: 08:05:00
    await h.settle()
    await h.advance(1)
    runs = by_time(h.history(task_id))
    assert [(t, e.status) for t, e in sorted(runs.items())] == [
        (at(minutes=2), "MISSED"), (at(minutes=4), "SUCCEEDED")]
    assert "the engine was behind schedule by 3 min" in (runs[at(minutes=2)].error_msg or "")
    assert received_times(h) == ["2027-03-01T08:04:00Z"]


@scenario
async def test_stopping_a_task_the_engine_is_behind_on_leaves_a_row_per_due_occurrence(
    h: Harness,
) -> None:
    """Under overload (or with no engine running) due occurrences are not planned yet; a
    stop must not drop them without a trace."""
    task_id = h.task(h.api())
    await h.advance(2)
    await h.stop_engine()
    h.clock.advance(timedelta(seconds=30))
    tasks.stop_task(h.ctx, task_id)
    history = h.history(task_id)
    assert [e.scheduled_at for e in history] == [START + timedelta(seconds=s) for s in range(33)]
    missed = [e for e in history if e.status == "MISSED"]
    assert len(missed) == 30
    assert all("the task was stopped" in (e.error_msg or "") for e in missed)
    assert "29 s after its time" in (missed[0].error_msg or "")
    await h.start_engine()
    await h.advance(5)
    assert len(h.history(task_id)) == 33
