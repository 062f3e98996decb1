"""Occurrences due together are coalesced: only the latest runs (a new user's trial).

After a restart of apicron shorter than the misfire grace, a task firing every 5 s had 7
due occurrences found at once: the earliest ran 36 s late with no note and the other 6 were
recorded SKIPPED "previous execution not finished", a burst in disguise with a misleading
reason. Now, as with APScheduler 3's default ``coalesce=True`` and Kubernetes CronJob,
only the latest of the occurrences due together runs; each earlier one is recorded MISSED
saying why it was not fired at its time and which later occurrence ran instead. A run that
is merely late still runs. Driven clock, real store (SQLite and PostgreSQL), real backend.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apicron.domain.models import Execution
from apicron.services import executions
from tests.engine_harness import START, Harness, scenario
from tests.test_overlap_multinode import two_nodes

EVERY_5_S = "0/5 * * * * ?"


def at(seconds: int = 0, minutes: int = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


def received_times(h: Harness) -> list[str]:
    return [r["headers"]["X-Apicron-Scheduled-Time"] for r in h.backend.received]


def every_row(h: Harness, task_id: str) -> list[Execution]:
    """Every execution of the task, planned ahead or not, earliest first."""
    page = executions.list_executions(h.ctx, task_id, status=None, start=None, end=None,
                                      offset=0, limit=500)
    return sorted(page.items, key=lambda e: e.scheduled_at)


def statuses(history: list[Execution]) -> list[tuple[datetime, str]]:
    return [(e.scheduled_at, e.status) for e in history]


async def down(h: Harness, for_: timedelta) -> None:
    """apicron is not running for ``for_`` (its engine stopped, the clock moving on)."""
    await h.stop_engine()
    h.clock.advance(for_)
    await h.start_engine()
    await h.settle()


async def trial(h: Harness, **fields: object) -> str:
    """The trial: every 5 s, 08:00:15 planned before a stop at 08:00:14, back 31 s later
    (08:00:45, within the 60 s grace): 08:00:15 … 08:00:45 are due at once."""
    task_id = h.task(h.api(), cron_expression=EVERY_5_S, **fields)
    await h.advance(14)
    assert received_times(h) == ["2027-03-01T08:00:00Z", "2027-03-01T08:00:05Z",
                                 "2027-03-01T08:00:10Z"]
    await down(h, timedelta(seconds=31))
    await h.advance(1)  # 08:00:46: nothing more due
    return task_id


def assert_coalesced(h: Harness, task_id: str, cause: str) -> None:
    history = h.history(task_id)
    assert statuses(history) == (
        [(at(s), "SUCCEEDED") for s in (0, 5, 10)]
        + [(at(s), "MISSED") for s in (15, 20, 25, 30, 35, 40)]
        + [(at(45), "SUCCEEDED")])
    assert received_times(h)[3:] == ["2027-03-01T08:00:45Z"]
    for missed in history[3:9]:
        message = missed.error_msg or ""
        assert cause in message, message
        assert "08:00:45" in message and "ran instead" in message, message
    late = history[9].note or ""
    assert "the earlier occurrences due with it were recorded MISSED" in late, late


@scenario
async def test_a_short_restart_runs_only_the_latest_due_occurrence(h: Harness) -> None:
    task_id = await trial(h)
    assert_coalesced(h, task_id, "apicron was not running at its time")
    await h.advance(5)  # and on schedule again
    assert received_times(h)[-1] == "2027-03-01T08:00:50Z"


@scenario
async def test_coalescing_comes_before_the_overlap_policy(h: Harness) -> None:
    """With ALLOW nothing is SKIPPED either: the earlier ones are MISSED, one call."""
    task_id = await trial(h, overlap_policy="ALLOW")
    assert_coalesced(h, task_id, "apicron was not running at its time")


@scenario
async def test_buffer_one_coalesces_too_and_buffers_nothing(h: Harness) -> None:
    task_id = await trial(h, overlap_policy="BUFFER_ONE")
    assert_coalesced(h, task_id, "apicron was not running at its time")


@scenario
async def test_an_engine_behind_within_the_grace_runs_only_the_latest(h: Harness) -> None:
    """Frozen (or starved) with 08:00:15 planned, no pass for 31 s."""
    task_id = h.task(h.api(), cron_expression=EVERY_5_S)
    await h.advance(14)
    h.clock.advance(timedelta(seconds=31))
    await h.settle()
    await h.advance(1)
    assert_coalesced(h, task_id, "the engine was behind schedule")


@scenario
async def test_an_engine_a_few_seconds_behind_runs_each_occurrence_late(h: Harness) -> None:
    """A busy engine 2 s behind an every-second task catches up: coalescing starts at
    CATCH_UP (5 s) behind, or for occurrences due while apicron was down (the suite's
    three-scheduler test at 500 a second had 4,165 MISSED rows from 1-2 s of lag)."""
    task_id = h.task(h.api(), cron_expression="* * * * * ?", overlap_policy="ALLOW",
                     effective_time=at(1))
    await h.advance(3)
    h.clock.advance(timedelta(seconds=2))  # no pass for 2 s: 08:00:04 and :05 due at once
    await h.settle()
    await h.eventually(lambda: len(h.backend.received) == 5, limit=30)
    history = every_row(h, task_id)
    assert [(e.scheduled_at, e.status) for e in history if e.scheduled_at <= at(5)] == [
        (at(s), "SUCCEEDED") for s in range(1, 6)]
    assert received_times(h)[3:] == ["2027-03-01T08:00:04Z", "2027-03-01T08:00:05Z"]


@scenario
async def test_a_merely_late_occurrence_still_runs_and_says_it_was_late(h: Harness) -> None:
    """Every minute, apicron down 08:00:50 to 08:01:20: 08:01 is due alone; it runs late."""
    task_id = h.task(h.api(), cron_expression="0 * * * * ?")
    await h.advance(50)
    await down(h, timedelta(seconds=30))
    history = h.history(task_id)
    assert statuses(history) == [(at(0), "SUCCEEDED"), (at(minutes=1), "SUCCEEDED")]
    note = history[1].note or ""
    assert note.startswith("run 20 s late") and "apicron was not running" in note, note
    assert history[0].note is None
    assert len(h.backend.received) == 2


@scenario
async def test_misfire_skip_beyond_the_grace_still_records_all_missed(h: Harness) -> None:
    """The misfire rules beyond the grace stay: SKIP calls nothing."""
    task_id = h.task(h.api(), cron_expression=EVERY_5_S, misfire_policy="SKIP")
    await h.advance(14)
    await down(h, timedelta(seconds=90))  # back at 08:01:44
    history = h.history(task_id)
    assert all(e.status == "MISSED" for e in history[3:]), statuses(history)
    assert [e.scheduled_at for e in history[3:]] == [at(s) for s in range(15, 104, 5)]
    assert len(h.backend.received) == 3


@scenario
async def test_stable_jitter_longer_than_the_interval_coalesces_nothing(h: Harness) -> None:
    """Every second with a stable offset of up to 5 s: the next occurrence's *nominal* time
    is past when one fires, but it is not due (its planned time is later): all run."""
    task_id = h.task(h.api(), jitter_s=5, jitter_mode="STABLE")
    await h.advance(20)
    history = [e for e in every_row(h, task_id) if e.status not in ("PENDING", "RUNNING")]
    assert history and all(e.status == "SUCCEEDED" for e in history), statuses(history)
    assert len(h.backend.received) == len(history)


async def _across_two_nodes(a: Harness, b: Harness) -> None:
    """08:00:15 planned by A (its clock at 08:00:14); B, its clock at 08:00:46, plans the
    rest: of them all only 08:00:45 runs, once, whichever node decides 08:00:15."""
    task_id = a.task(a.api(), cron_expression=EVERY_5_S, effective_time=at(15))
    await a.advance(14)
    assert [e.status for e in every_row(a, task_id)] == ["PENDING"]
    b.clock.advance(timedelta(seconds=46))
    await b.settle()
    await a.advance(32)  # A reaches 08:00:46 too
    await b.settle()
    history = every_row(a, task_id)
    assert statuses(history[:7]) == (
        [(at(s), "MISSED") for s in (15, 20, 25, 30, 35, 40)] + [(at(45), "SUCCEEDED")])
    assert received_times(a) == ["2027-03-01T08:00:45Z"]
    for missed in history[:6]:
        assert "08:00:45" in (missed.error_msg or ""), missed.error_msg


test_occurrences_due_together_on_two_nodes_run_once = two_nodes(_across_two_nodes)


async def _taken_over(a: Harness, b: Harness) -> None:
    """A plans 08:00:15 and stops at 08:00:14, handing it back; B, its clock at 08:00:46,
    takes it over with 08:00:20 … 08:00:45 due too. Only 08:00:45 runs, and 08:00:15 says
    the engine that held it stopped, not that B was behind schedule: CI's kill -9 test had
    60 taken-over occurrences saying "the engine was behind schedule by 14 s"."""
    task_id = a.task(a.api(), cron_expression=EVERY_5_S, effective_time=at(15))
    await a.advance(14)
    assert [e.status for e in every_row(a, task_id)] == ["PENDING"]
    await a.stop_engine()
    b.clock.advance(timedelta(seconds=46))
    await b.settle()
    history = every_row(b, task_id)
    assert statuses(history[:7]) == (
        [(at(s), "MISSED") for s in (15, 20, 25, 30, 35, 40)] + [(at(45), "SUCCEEDED")])
    assert received_times(a) == ["2027-03-01T08:00:45Z"]
    taken = history[0].error_msg or ""
    assert taken.startswith("not run: the engine that held it stopped before firing it"), taken
    assert "08:00:45" in taken and "ran instead" in taken, taken
    for missed in history[1:6]:  # B planned these itself: it was behind (its clock jumped)
        assert "the engine was behind schedule by" in (missed.error_msg or ""), missed.error_msg


test_an_occurrence_taken_over_says_its_engine_stopped = two_nodes(_taken_over)
