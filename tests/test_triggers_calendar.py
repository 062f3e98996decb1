"""Calendar triggers: every N minutes, hours, days, weeks or months from effective_time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.trigger_cases import at, every, times, walls


def test_the_first_fire_is_the_effective_time_itself() -> None:
    start = datetime(2026, 1, 1, 9, 30, 15, 250_000, tzinfo=UTC)
    schedule = every(2, "DAY", start, "Europe/Berlin")
    assert schedule.first_at_or_after(datetime(2025, 1, 1, tzinfo=UTC)) == start
    assert schedule.first_at_or_after(start) == start
    assert schedule.next_after(start) == start + timedelta(days=2)


def test_interval_value_defaults_to_one() -> None:
    assert times(every(None, "HOUR", at(2026, 1, 1)), at(2026, 1, 1), 2) == [
        at(2026, 1, 1),
        at(2026, 1, 1, 1),
    ]


def test_a_month_anchored_on_the_31st_clamps_to_short_months_and_comes_back() -> None:
    assert times(every(1, "MONTH", at(2026, 1, 31, 9, 30)), at(2026, 1, 1), 5) == [
        at(2026, 1, 31, 9, 30),
        at(2026, 2, 28, 9, 30),
        at(2026, 3, 31, 9, 30),
        at(2026, 4, 30, 9, 30),
        at(2026, 5, 31, 9, 30),
    ]


def test_a_month_anchored_on_the_31st_reaches_a_leap_day() -> None:
    assert times(every(1, "MONTH", at(2028, 1, 31)), at(2028, 1, 1), 3) == [
        at(2028, 1, 31),
        at(2028, 2, 29),
        at(2028, 3, 31),
    ]


def test_every_two_months_from_the_31st() -> None:
    assert times(every(2, "MONTH", at(2025, 12, 31, 12)), at(2025, 12, 1), 4) == [
        at(2025, 12, 31, 12),
        at(2026, 2, 28, 12),
        at(2026, 4, 30, 12),
        at(2026, 6, 30, 12),
    ]


def test_months_keep_wall_time_and_day_across_dst_in_berlin() -> None:
    schedule = every(1, "MONTH", at(2026, 1, 31, 8, 30), "Europe/Berlin")
    assert walls(schedule, at(2026, 1, 1), 4) == [
        "2026-01-31 09:30:00+01:00",
        "2026-02-28 09:30:00+01:00",
        "2026-03-31 09:30:00+02:00",
        "2026-04-30 09:30:00+02:00",
    ]


def test_days_keep_the_wall_clock_time_across_dst() -> None:
    schedule = every(2, "DAY", at(2026, 3, 25, 8, 30), "Europe/Berlin")
    assert walls(schedule, at(2026, 3, 1), 4) == [
        "2026-03-25 09:30:00+01:00",
        "2026-03-27 09:30:00+01:00",
        "2026-03-29 09:30:00+02:00",
        "2026-03-31 09:30:00+02:00",
    ]


def test_weeks_keep_the_weekday_and_wall_time() -> None:
    schedule = every(2, "WEEK", at(2026, 10, 15, 7), "Europe/Berlin")
    assert walls(schedule, at(2026, 10, 1), 3) == [
        "2026-10-15 09:00:00+02:00",
        "2026-10-29 09:00:00+01:00",
        "2026-11-12 09:00:00+01:00",
    ]


def test_hours_step_in_absolute_time_across_spring_forward() -> None:
    schedule = every(1, "HOUR", at(2026, 3, 8, 5), "America/New_York")
    assert times(schedule, at(2026, 3, 8), 4) == [at(2026, 3, 8, h) for h in (5, 6, 7, 8)]
    assert walls(schedule, at(2026, 3, 8), 4) == [
        "2026-03-08 00:00:00-05:00",
        "2026-03-08 01:00:00-05:00",
        "2026-03-08 03:00:00-04:00",
        "2026-03-08 04:00:00-04:00",
    ]


def test_minutes_step_in_absolute_time_across_fall_back() -> None:
    schedule = every(30, "MINUTE", at(2026, 11, 1, 5), "America/New_York")
    assert walls(schedule, at(2026, 11, 1), 4) == [
        "2026-11-01 01:00:00-04:00",
        "2026-11-01 01:30:00-04:00",
        "2026-11-01 01:00:00-05:00",
        "2026-11-01 01:30:00-05:00",
    ]


# The anchor, 31 January 2026, is a Saturday; so is 8 May 2900.
@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("MINUTE", 7, at(2900, 5, 5, 10, 11)),
        ("HOUR", 5, at(2900, 5, 5, 15, 0)),
        ("DAY", 3, at(2900, 5, 6, 9, 0)),
        ("WEEK", 1, at(2900, 5, 8, 9, 0)),
        ("MONTH", 1, at(2900, 5, 31, 9, 0)),
    ],
)
def test_a_far_future_fire_is_computed(unit: str, value: int, expected: datetime) -> None:
    """874 years on; that it is computed, not stepped, is measured by
    ``python -m bench.trigger_speed`` (a time bound here would measure the machine)."""
    schedule = every(value, unit, at(2026, 1, 31, 9))
    fire = schedule.next_after(at(2900, 5, 5, 10, 7, 3))
    assert fire == expected
    assert schedule.next_after(fire - timedelta(microseconds=1)) == fire


def test_end_time_is_inclusive() -> None:
    schedule = every(15, "MINUTE", at(2026, 1, 1, 8, 30), end=at(2026, 1, 1, 9))
    assert times(schedule, at(2026, 1, 1), 10) == [
        at(2026, 1, 1, 8, 30),
        at(2026, 1, 1, 8, 45),
        at(2026, 1, 1, 9),
    ]
    assert schedule.next_after(at(2026, 1, 1, 9)) is None
    assert schedule.first_at_or_after(at(2026, 1, 1, 9)) == at(2026, 1, 1, 9)


def test_an_anchor_in_the_second_pass_of_a_repeated_hour_fires_there_first() -> None:
    second_pass = at(2026, 11, 1, 6, 30)
    schedule = every(1, "DAY", second_pass, "America/New_York")
    assert walls(schedule, second_pass, 2) == [
        "2026-11-01 01:30:00-05:00",
        "2026-11-02 01:30:00-05:00",
    ]


def test_fires_near_the_end_of_time_stop_cleanly() -> None:
    schedule = every(59, "MONTH", at(2026, 1, 31))
    assert schedule.next_after(datetime(9999, 12, 1, tzinfo=UTC)) is None
