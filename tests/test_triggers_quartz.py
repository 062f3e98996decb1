"""Quartz cron expressions in UTC, against dates checked on a calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apicron.triggers import parse_cron
from tests.trigger_cases import at, cron, times


def test_it_fires_on_the_third_friday() -> None:
    schedule = cron("0 0 12 ? * 6#3")
    assert times(schedule, at(2026, 1, 1), 3) == [
        at(2026, 1, 16, 12),
        at(2026, 2, 20, 12),
        at(2026, 3, 20, 12),
    ]


def test_a_fifth_weekday_fires_only_in_months_that_have_one() -> None:
    assert times(cron("0 0 0 ? * FRI#5"), at(2026, 1, 1), 4) == [
        at(2026, 1, 30),
        at(2026, 5, 29),
        at(2026, 7, 31),
        at(2026, 10, 30),
    ]


def test_it_fires_on_the_last_friday() -> None:
    assert times(cron("0 15 10 ? * 6L"), at(2026, 1, 1), 4) == [
        at(2026, 1, 30, 10, 15),
        at(2026, 2, 27, 10, 15),
        at(2026, 3, 27, 10, 15),
        at(2026, 4, 24, 10, 15),
    ]


def test_l_alone_in_day_of_week_means_saturday() -> None:
    assert times(cron("0 0 0 ? * L"), at(2026, 1, 1), 2) == [at(2026, 1, 3), at(2026, 1, 10)]


def test_it_fires_on_the_last_day_of_each_month() -> None:
    assert times(cron("0 0 0 L * ?"), at(2027, 12, 1), 4) == [
        at(2027, 12, 31),
        at(2028, 1, 31),
        at(2028, 2, 29),
        at(2028, 3, 31),
    ]


def test_it_fires_on_the_last_weekday_of_the_month() -> None:
    # January ends on a Saturday, February on a Saturday, May on a Sunday.
    assert times(cron("0 0 0 LW * ?"), at(2026, 1, 1), 5) == [
        at(2026, 1, 30),
        at(2026, 2, 27),
        at(2026, 3, 31),
        at(2026, 4, 30),
        at(2026, 5, 29),
    ]


def test_nearest_weekday_moves_a_saturday_to_friday_and_a_sunday_to_monday() -> None:
    schedule = cron("0 0 0 15W * ?")
    # 15 February 2026 is a Sunday, 15 August 2026 a Saturday.
    assert times(schedule, at(2026, 2, 1), 1) == [at(2026, 2, 16)]
    assert times(schedule, at(2026, 8, 1), 1) == [at(2026, 8, 14)]
    assert times(schedule, at(2026, 4, 1), 1) == [at(2026, 4, 15)]


def test_nearest_weekday_never_leaves_the_month() -> None:
    # August 2026 starts on a Saturday: the nearest weekday in August is Monday the 3rd.
    assert times(cron("0 0 0 1W * ?"), at(2026, 8, 1), 1) == [at(2026, 8, 3)]
    # May 2026 ends on a Sunday: the 31st moves back to Friday the 29th.
    assert times(cron("0 0 0 31W * ?"), at(2026, 5, 1), 1) == [at(2026, 5, 29)]


def test_it_fires_three_days_before_the_last_day() -> None:
    assert times(cron("0 0 0 L-3 * ?"), at(2026, 1, 1), 4) == [
        at(2026, 1, 28),
        at(2026, 2, 25),
        at(2026, 3, 28),
        at(2026, 4, 27),
    ]


def test_it_fires_every_fifteen_minutes_between_one_and_four() -> None:
    fires = times(cron("0 0/15 1-4 * * ?"), at(2026, 1, 1), 17)
    assert fires[0] == at(2026, 1, 1, 1)
    assert fires[15] == at(2026, 1, 1, 4, 45)
    assert fires[16] == at(2026, 1, 2, 1)
    assert {f.minute for f in fires} == {0, 15, 30, 45}


def test_it_fires_on_weekdays_by_name() -> None:
    # 1 January 2026 is a Thursday.
    assert times(cron("0 0 9 ? * mon-fri"), at(2026, 1, 1), 4) == [
        at(2026, 1, 1, 9),
        at(2026, 1, 2, 9),
        at(2026, 1, 5, 9),
        at(2026, 1, 6, 9),
    ]


def test_day_of_week_counts_from_sunday() -> None:
    assert times(cron("0 0 0 ? * 1"), at(2026, 1, 1), 1) == [at(2026, 1, 4)]
    assert times(cron("0 0 0 ? * 7"), at(2026, 1, 1), 1) == [at(2026, 1, 3)]


def test_the_year_field_limits_the_years() -> None:
    schedule = cron("0 0 0 1 1 ? 2027-2028")
    assert times(schedule, at(2026, 1, 1), 5) == [at(2027, 1, 1), at(2028, 1, 1)]
    assert schedule.next_after(at(2028, 1, 1)) is None


def test_it_fires_every_second() -> None:
    schedule = cron("* * * * * ?")
    start = datetime(2026, 1, 1, 10, 0, 0, 500_000, tzinfo=UTC)
    assert times(schedule, start, 3) == [
        at(2026, 1, 1, 10, 0, 1),
        at(2026, 1, 1, 10, 0, 2),
        at(2026, 1, 1, 10, 0, 3),
    ]


def test_it_fires_every_ten_seconds() -> None:
    assert times(cron("0/10 * * * * ?"), at(2026, 1, 1, 23, 59, 41), 3) == [
        at(2026, 1, 1, 23, 59, 50),
        at(2026, 1, 2, 0, 0, 0),
        at(2026, 1, 2, 0, 0, 10),
    ]


def test_months_and_lists_and_steps_combine() -> None:
    # Day-of-week 2/3 is Monday and Thursday; 29 January 2026 is a Thursday.
    assert times(cron("30 5 8,20 ? JAN,jul 2/3"), at(2026, 1, 29), 4) == [
        at(2026, 1, 29, 8, 5, 30),
        at(2026, 1, 29, 20, 5, 30),
        at(2026, 7, 2, 8, 5, 30),
        at(2026, 7, 2, 20, 5, 30),
    ]


def test_a_single_value_with_a_step_runs_to_the_end_of_the_field() -> None:
    assert times(cron("0 50/5 0 * * ?"), at(2026, 1, 1), 3) == [
        at(2026, 1, 1, 0, 50),
        at(2026, 1, 1, 0, 55),
        at(2026, 1, 2, 0, 50),
    ]


def test_february_thirtieth_never_fires() -> None:
    expression = parse_cron("0 0 0 30 2 ?")
    assert expression.next_wall(datetime(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("expression", "year"),
    [("0 0 0 29 2 ?", 2028), ("0 0 0 ? 2 2#5", 2044)],
)
def test_rare_days_are_found_years_ahead(expression: str, year: int) -> None:
    assert cron(expression).first_at_or_after(at(2026, 1, 1)) == at(year, 2, 29)


def test_parsing_is_cached_by_the_expression_string() -> None:
    assert parse_cron("0 0 12 ? * 6#3") is parse_cron("0 0 12 ? * 6#3")
