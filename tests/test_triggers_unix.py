"""Unix (Vixie cron) 5-field expressions in UTC."""

from __future__ import annotations

import pytest

from tests.trigger_cases import at, cron, times


def test_it_fires_at_nine_on_weekdays() -> None:
    # 1 January 2026 is a Thursday.
    assert times(cron("0 9 * * 1-5"), at(2026, 1, 1), 4) == [
        at(2026, 1, 1, 9),
        at(2026, 1, 2, 9),
        at(2026, 1, 5, 9),
        at(2026, 1, 6, 9),
    ]


def test_it_fires_on_the_first_of_the_month_or_any_friday() -> None:
    assert times(cron("0 0 1 * 5"), at(2026, 1, 1), 8) == [
        at(2026, 1, 1),
        at(2026, 1, 2),
        at(2026, 1, 9),
        at(2026, 1, 16),
        at(2026, 1, 23),
        at(2026, 1, 30),
        at(2026, 2, 1),
        at(2026, 2, 6),
    ]


def test_a_day_field_starting_with_a_star_makes_the_day_rule_and() -> None:
    # Odd days that are also Fridays: Vixie cron's rule goes by the first character.
    assert times(cron("0 0 */2 * 5"), at(2026, 1, 1), 3) == [
        at(2026, 1, 9),
        at(2026, 1, 23),
        at(2026, 2, 13),
    ]


@pytest.mark.parametrize("sunday", ["0", "7", "SUN", "sun"])
def test_zero_and_seven_are_both_sunday(sunday: str) -> None:
    assert times(cron(f"30 6 * * {sunday}"), at(2026, 1, 1), 2) == [
        at(2026, 1, 4, 6, 30),
        at(2026, 1, 11, 6, 30),
    ]


def test_a_range_ending_in_seven_reaches_sunday() -> None:
    assert times(cron("0 0 * * 5-7"), at(2026, 1, 1), 4) == [
        at(2026, 1, 2),
        at(2026, 1, 3),
        at(2026, 1, 4),
        at(2026, 1, 9),
    ]


def test_seven_with_a_step_still_means_sunday() -> None:
    assert times(cron("0 0 * * 7/2"), at(2026, 1, 1), 2) == [at(2026, 1, 4), at(2026, 1, 11)]


def test_unix_expressions_fire_on_whole_minutes() -> None:
    assert times(cron("*/20 * * * *"), at(2026, 1, 1, 0, 0, 1), 3) == [
        at(2026, 1, 1, 0, 20),
        at(2026, 1, 1, 0, 40),
        at(2026, 1, 1, 1, 0),
    ]


@pytest.mark.parametrize(
    ("macro", "first", "second"),
    [
        ("@yearly", at(2027, 1, 1), at(2028, 1, 1)),
        ("@annually", at(2027, 1, 1), at(2028, 1, 1)),
        ("@monthly", at(2026, 2, 1), at(2026, 3, 1)),
        ("@weekly", at(2026, 1, 4), at(2026, 1, 11)),
        ("@daily", at(2026, 1, 2), at(2026, 1, 3)),
        ("@midnight", at(2026, 1, 2), at(2026, 1, 3)),
        ("@HOURLY", at(2026, 1, 1, 1), at(2026, 1, 1, 2)),
    ],
)
def test_macros_mean_what_they_mean_in_unix_cron(macro: str, first: object, second: object) -> None:
    assert times(cron(macro), at(2026, 1, 1, 0, 0, 1), 2) == [first, second]
