"""A task's schedule is built once per set of trigger fields (issue 20: the engine builds
it at every claim), and the cache never changes what a schedule is or hides an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from apicron.domain.errors import InvalidInput
from apicron.domain.models import TaskFields
from apicron.domain.schedules import schedule_of
from apicron.triggers import build_trigger

START = datetime(2026, 12, 1, 8, 0, 0, tzinfo=UTC)


def _task(cron: str, effective: datetime = START, end: datetime | None = None) -> TaskFields:
    return TaskFields(name="cached", app_id="app", api_id="api", trigger_type="CRON",
                      cron_expression=cron, effective_time=effective, end_time=end,
                      timezone="Asia/Shanghai")


def test_tasks_with_the_same_trigger_fields_share_one_schedule_with_the_same_fires() -> None:
    first, second = schedule_of(_task("*/7 * * * * ?")), schedule_of(_task("*/7 * * * * ?"))
    assert first is second
    fresh = build_trigger(trigger_type="CRON", cron_expression="*/7 * * * * ?",
                          interval_unit=None, interval_value=None, effective_time=START,
                          timezone="Asia/Shanghai")
    assert first.preview(START, 5) == fresh.preview(START, 5)
    assert first.next_after(START) == START + timedelta(seconds=7)


def test_a_different_field_is_a_different_schedule() -> None:
    base = schedule_of(_task("0 * * * * ?"))
    later = schedule_of(_task("0 * * * * ?", effective=START + timedelta(hours=1)))
    other = schedule_of(_task("30 * * * * ?"))
    ended = schedule_of(_task("0 * * * * ?", end=START + timedelta(minutes=2)))
    assert len({id(base), id(later), id(other), id(ended)}) == 4
    assert base.first_at_or_after(START) == START
    assert later.first_at_or_after(START) == START + timedelta(hours=1)
    assert other.first_at_or_after(START) == START + timedelta(seconds=30)
    assert ended.next_after(START + timedelta(minutes=2)) is None


def test_the_same_instant_given_in_another_offset_is_the_same_schedule() -> None:
    shanghai = START.astimezone(timezone(timedelta(hours=8)))
    assert schedule_of(_task("0 0 * * * ?", effective=shanghai)).effective_time == START


def test_a_schedule_that_cannot_be_built_fails_every_time() -> None:
    # February 30th never comes: refused with the field named, on every call (an error
    # is never cached as a schedule).
    for _ in range(2):
        with pytest.raises(InvalidInput) as raised:
            schedule_of(_task("0 0 0 30 2 ?"))
        assert raised.value.field == "cron_expression"
