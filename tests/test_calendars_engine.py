"""The engine applies a task's business calendars when it plans (issue 18): SKIP records
the occurrence SKIPPED naming the calendar entry, NEXT / PREVIOUS run it moved, and no
instant ever gets two executions. Driven clock, real store (SQLite and PostgreSQL), real
backend on loopback."""

from __future__ import annotations

from datetime import datetime, timedelta

from apicron.domain.calendars import CalendarCreate, CalendarUpdate
from apicron.services import calendars, tasks
from tests.engine_harness import START, Harness, scenario

# START is Monday 2027-03-01 08:00 UTC.


def day(n: int, hour: int = 9) -> datetime:
    """09:00 UTC on March ``n``, 2027."""
    return datetime(2027, 3, n, hour, tzinfo=START.tzinfo)


async def through(h: Harness, moment: datetime) -> None:
    """Jump the clock to a second before ``moment``, then step over it (nothing fires
    between the instants these tests visit, so the jump makes no misfire)."""
    now = h.clock.now()
    if moment - timedelta(seconds=1) > now:
        h.clock.advance(moment - timedelta(seconds=1) - now)
    await h.advance(3)


def calendar_id(h: Harness, name: str, **fields: object) -> str:
    spec = CalendarCreate.model_validate({"name": name, **fields})
    return calendars.create_calendar(h.ctx, spec).id


def rows(h: Harness, task_id: str) -> list[tuple[datetime, str, str | None]]:
    return [(e.scheduled_at, e.status, e.error_msg or e.note) for e in h.history(task_id)]


def received(h: Harness) -> list[str]:
    return [r["headers"]["X-Apicron-Scheduled-Time"] for r in h.backend.received]


@scenario
async def test_skip_records_the_excluded_occurrence_and_calls_nothing(h: Harness) -> None:
    cal = calendar_id(h, "closed_tuesday", exclude_dates=["2027-03-02"])
    task_id = h.task(h.api(), cron_expression="0 0 9 * * ?", timezone="UTC",
                     calendar_ids=[cal])
    for n in (1, 2, 3):
        await through(h, day(n))
    assert rows(h, task_id) == [
        (day(1), "SUCCEEDED", None),
        (day(2), "SKIPPED", "excluded by calendar closed_tuesday: exclude_dates 2027-03-02"),
        (day(3), "SUCCEEDED", None),
    ]
    assert received(h) == ["2027-03-01T09:00:00Z", "2027-03-03T09:00:00Z"]


@scenario
async def test_next_runs_the_occurrence_on_the_next_included_day(h: Harness) -> None:
    cal = calendar_id(h, "closed_tuesday", exclude_dates=["2027-03-02"])
    task_id = h.task(h.api(), cron_expression="0 0 9 ? * TUE", timezone="UTC",
                     calendar_ids=[cal], calendar_policy="NEXT")
    for n in (2, 3, 9):
        await through(h, day(n))
    assert rows(h, task_id) == [
        (day(3), "SUCCEEDED", "moved from 2027-03-02 09:00: excluded by calendar "
                              "closed_tuesday: exclude_dates 2027-03-02"),
        (day(9), "SUCCEEDED", None),
    ]
    # The backend hears the time it runs at.
    assert received(h) == ["2027-03-03T09:00:00Z", "2027-03-09T09:00:00Z"]


@scenario
async def test_previous_runs_the_occurrence_on_the_previous_included_day(h: Harness) -> None:
    cal = calendar_id(h, "closed_wednesday", exclude_dates=["2027-03-03"])
    task_id = h.task(h.api(), cron_expression="0 0 9 ? * WED", timezone="UTC",
                     calendar_ids=[cal], calendar_policy="PREVIOUS")
    task = tasks.get_task(h.ctx, task_id)
    assert task.next_fire_time == day(2)
    for n in (2, 3, 10):
        await through(h, day(n))
    assert rows(h, task_id) == [
        (day(2), "SUCCEEDED", "moved from 2027-03-03 09:00: excluded by calendar "
                              "closed_wednesday: exclude_dates 2027-03-03"),
        (day(10), "SUCCEEDED", None),
    ]
    assert received(h) == ["2027-03-02T09:00:00Z", "2027-03-10T09:00:00Z"]


@scenario
async def test_a_move_onto_an_occurrence_runs_once_and_records_the_other(h: Harness) -> None:
    cal = calendar_id(h, "closed_tuesday", exclude_dates=["2027-03-02"])
    task_id = h.task(h.api(), cron_expression="0 0 9 * * ?", timezone="UTC",
                     calendar_ids=[cal], calendar_policy="NEXT")
    for n in (1, 2, 3, 4):
        await through(h, day(n))
    assert rows(h, task_id) == [
        (day(1), "SUCCEEDED", None),
        (day(2), "SKIPPED", "excluded by calendar closed_tuesday: exclude_dates 2027-03-02; "
                            "moved to 2027-03-03 09:00, where another occurrence already runs"),
        (day(3), "SUCCEEDED", None),
        (day(4), "SUCCEEDED", None),
    ]
    assert received(h) == ["2027-03-01T09:00:00Z", "2027-03-03T09:00:00Z",
                           "2027-03-04T09:00:00Z"]


@scenario
async def test_a_calendar_edited_while_the_task_runs_applies_from_the_next_planning(
    h: Harness,
) -> None:
    cal = calendar_id(h, "later_closed")
    task_id = h.task(h.api(), cron_expression="0 0 9 * * ?", timezone="UTC",
                     calendar_ids=[cal])
    await through(h, day(1))
    calendars.update_calendar(h.ctx, cal, CalendarUpdate(
        exclude_dates=["2027-03-02"]))
    for n in (2, 3):
        await through(h, day(n))
    assert [(at, status) for at, status, _ in rows(h, task_id)] == [
        (day(1), "SUCCEEDED"), (day(2), "SKIPPED"), (day(3), "SUCCEEDED")]


@scenario
async def test_calendars_are_evaluated_in_the_tasks_zone(h: Harness) -> None:
    """08:00 in Tokyo is 23:00 UTC the day before: a calendar excluding March 3 excludes
    the occurrence at 2027-03-02T23:00Z (March 3 in Tokyo), not the one at
    2027-03-03T23:00Z."""
    cal = calendar_id(h, "closed_third", exclude_dates=["2027-03-03"])
    task_id = h.task(h.api(), cron_expression="0 0 8 * * ?", timezone="Asia/Tokyo",
                     calendar_ids=[cal])
    for n in (1, 2, 3):
        await through(h, day(n, hour=23))
    assert [(at, status) for at, status, _ in rows(h, task_id)] == [
        (day(1, 23), "SUCCEEDED"), (day(2, 23), "SKIPPED"), (day(3, 23), "SUCCEEDED")]


@scenario
async def test_a_calendar_edit_replans_the_started_tasks_that_follow_it(h: Harness) -> None:
    """Monday 2027-03-01 excluded, NEXT: the task's next fire is Tuesday's moved one.
    The exclusion removed, Monday's own occurrence is back and runs; Tuesday has none."""
    cal = calendar_id(h, "closed_monday", exclude_dates=["2027-03-01"])
    task_id = h.task(h.api(), cron_expression="0 0 9 ? * MON", timezone="UTC",
                     calendar_ids=[cal], calendar_policy="NEXT")
    assert tasks.get_task(h.ctx, task_id).next_fire_time == day(2)
    calendars.update_calendar(h.ctx, cal, CalendarUpdate(exclude_dates=[]))
    assert tasks.get_task(h.ctx, task_id).next_fire_time == day(1)
    for n in (1, 2):
        await through(h, day(n))
    assert rows(h, task_id) == [(day(1), "SUCCEEDED", None)]
    assert received(h) == ["2027-03-01T09:00:00Z"]
