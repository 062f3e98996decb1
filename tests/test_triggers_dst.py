"""Daylight-saving transitions in real zones, on real 2026 dates.

Debian cron's rule: expressions with a wildcard or whole-range step in a time field
(``0 0 * * * ?``, ``0 0/15 * * * ?``) run on absolute time; the others name fixed times.
New York and Berlin jump an hour; Lord Howe Island jumps 30 minutes.
Spring gaps:   New York 8 Mar 02:00-03:00, Berlin 29 Mar 02:00-03:00, Lord Howe 4 Oct 02:00-02:30.
Repeated time: New York 1 Nov 01:00-02:00, Berlin 25 Oct 02:00-03:00, Lord Howe 5 Apr 01:30-02:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from apicron.triggers import Schedule
from tests.trigger_cases import at, cron, every, expected_fires, times, walls

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
LORD_HOWE = "Australia/Lord_Howe"


def local_start(zone: str, day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))


def shifted(schedule: Schedule, after: datetime, count: int) -> list[bool]:
    return [fire.dst_shifted for fire in schedule.preview(after, count)]


class TestDST:
    @pytest.mark.parametrize(
        ("zone", "expression", "day_before", "expected"),
        [
            (
                NEW_YORK,
                "0 30 2 * * ?",
                date(2026, 3, 7),
                [
                    "2026-03-07 02:30:00-05:00",
                    "2026-03-08 03:00:00-04:00",
                    "2026-03-09 02:30:00-04:00",
                ],
            ),
            (
                BERLIN,
                "0 30 2 * * ?",
                date(2026, 3, 28),
                [
                    "2026-03-28 02:30:00+01:00",
                    "2026-03-29 03:00:00+02:00",
                    "2026-03-30 02:30:00+02:00",
                ],
            ),
            (
                LORD_HOWE,
                "0 15 2 * * ?",
                date(2026, 10, 3),
                [
                    "2026-10-03 02:15:00+10:30",
                    "2026-10-04 02:30:00+11:00",
                    "2026-10-05 02:15:00+11:00",
                ],
            ),
        ],
    )
    def test_a_daily_job_at_a_skipped_time_fires_once_at_the_jump(
        self, zone: str, expression: str, day_before: date, expected: list[str]
    ) -> None:
        schedule = cron(expression, zone)
        after = local_start(zone, day_before)
        assert walls(schedule, after, 3) == expected
        assert shifted(schedule, after, 3) == [False, True, False]

    def test_the_jump_time_matching_too_still_fires_only_once(self) -> None:
        schedule = cron("0 0 2,3 * * ?", NEW_YORK)
        assert times(schedule, at(2026, 3, 8), 3) == [
            at(2026, 3, 8, 7),
            at(2026, 3, 9, 6),
            at(2026, 3, 9, 7),
        ]

    @pytest.mark.parametrize(
        ("zone", "expression", "day", "expected"),
        [
            (
                NEW_YORK,
                "0 30 1 * * ?",
                date(2026, 11, 1),
                ["2026-11-01 01:30:00-04:00", "2026-11-02 01:30:00-05:00"],
            ),
            (
                BERLIN,
                "0 30 2 * * ?",
                date(2026, 10, 25),
                ["2026-10-25 02:30:00+02:00", "2026-10-26 02:30:00+01:00"],
            ),
            (
                LORD_HOWE,
                "0 45 1 * * ?",
                date(2026, 4, 5),
                ["2026-04-05 01:45:00+11:00", "2026-04-06 01:45:00+10:30"],
            ),
        ],
    )
    def test_a_daily_job_at_a_repeated_time_fires_once_at_the_first_occurrence(
        self, zone: str, expression: str, day: date, expected: list[str]
    ) -> None:
        schedule = cron(expression, zone)
        assert walls(schedule, local_start(zone, day), 2) == expected

    @pytest.mark.parametrize(
        ("zone", "day", "expected"),
        [
            (
                NEW_YORK,
                date(2026, 3, 8),
                ["00:00:00-05:00", "01:00:00-05:00", "03:00:00-04:00", "04:00:00-04:00"],
            ),
            (
                BERLIN,
                date(2026, 3, 29),
                ["00:00:00+01:00", "01:00:00+01:00", "03:00:00+02:00", "04:00:00+02:00"],
            ),
            (
                LORD_HOWE,
                date(2026, 10, 4),
                ["00:00:00+10:30", "01:00:00+10:30", "03:00:00+11:00", "04:00:00+11:00"],
            ),
        ],
    )
    def test_an_hourly_job_across_spring_forward_has_nothing_to_catch_up(
        self, zone: str, day: date, expected: list[str]
    ) -> None:
        schedule = cron("0 0 * * * ?", zone)
        fires = walls(schedule, local_start(zone, day), 4)
        assert fires == [f"{day} {clock}" for clock in expected]
        assert shifted(schedule, local_start(zone, day), 4) == [False] * 4

    @pytest.mark.parametrize(
        ("zone", "day", "expected"),
        [
            (
                NEW_YORK,
                date(2026, 11, 1),
                ["00:00:00-04:00", "01:00:00-04:00", "01:00:00-05:00", "02:00:00-05:00"],
            ),
            (
                BERLIN,
                date(2026, 10, 25),
                ["01:00:00+02:00", "02:00:00+02:00", "02:00:00+01:00", "03:00:00+01:00"],
            ),
            (
                # The repeated half hour, 01:30-02:00, holds no whole hour.
                LORD_HOWE,
                date(2026, 4, 5),
                ["00:00:00+11:00", "01:00:00+11:00", "02:00:00+10:30", "03:00:00+10:30"],
            ),
        ],
    )
    def test_an_hourly_job_across_fall_back_fires_in_both_passes(
        self, zone: str, day: date, expected: list[str]
    ) -> None:
        schedule = cron("0 0 * * * ?", zone)
        start = local_start(zone, day, int(expected[0][:2]))
        assert walls(schedule, start, 4) == [f"{day} {clock}" for clock in expected]

    @pytest.mark.parametrize(
        ("zone", "day", "expected"),
        [
            (NEW_YORK, date(2026, 11, 1), ["01:00:00-04:00", "02:00:00-05:00"]),
            (BERLIN, date(2026, 10, 25), ["02:00:00+02:00", "03:00:00+01:00"]),
        ],
    )
    def test_fixed_hours_across_fall_back_do_not_repeat(
        self, zone: str, day: date, expected: list[str]
    ) -> None:
        schedule = cron("0 0 1,2,3 * * ?", zone)
        start = local_start(zone, day, int(expected[0][:2]))
        assert walls(schedule, start, 2) == [f"{day} {clock}" for clock in expected]

    @pytest.mark.parametrize(
        ("zone", "after", "expected"),
        [
            (
                NEW_YORK,
                at(2026, 3, 8, 6, 30),
                ["01:30:00-05:00", "01:45:00-05:00", "03:00:00-04:00", "03:15:00-04:00"],
            ),
            (
                NEW_YORK,
                at(2026, 11, 1, 5, 30),
                ["01:30:00-04:00", "01:45:00-04:00", "01:00:00-05:00", "01:15:00-05:00"],
            ),
            (
                BERLIN,
                at(2026, 3, 29, 0, 30),
                ["01:30:00+01:00", "01:45:00+01:00", "03:00:00+02:00", "03:15:00+02:00"],
            ),
            (
                BERLIN,
                at(2026, 10, 25, 0, 30),
                ["02:30:00+02:00", "02:45:00+02:00", "02:00:00+01:00", "02:15:00+01:00"],
            ),
            (
                LORD_HOWE,
                at(2026, 10, 3, 15),
                ["01:30:00+10:30", "01:45:00+10:30", "02:30:00+11:00", "02:45:00+11:00"],
            ),
            (
                LORD_HOWE,
                at(2026, 4, 4, 14, 30),
                ["01:30:00+11:00", "01:45:00+11:00", "01:30:00+10:30", "01:45:00+10:30"],
            ),
        ],
    )
    def test_every_fifteen_minutes_across_a_transition(
        self, zone: str, after: datetime, expected: list[str]
    ) -> None:
        schedule = cron("0 0/15 * * * ?", zone)
        day = after.astimezone(ZoneInfo(zone)).date()
        assert walls(schedule, after, 4) == [f"{day} {clock}" for clock in expected]

    @pytest.mark.parametrize(
        ("zone", "day", "count"),
        [
            (NEW_YORK, date(2026, 3, 8), 92),
            (NEW_YORK, date(2026, 11, 1), 100),
            (BERLIN, date(2026, 3, 29), 92),
            (BERLIN, date(2026, 10, 25), 100),
            (LORD_HOWE, date(2026, 10, 4), 94),
            (LORD_HOWE, date(2026, 4, 5), 98),
        ],
    )
    def test_every_fifteen_minutes_through_a_transition_day_matches_the_reference(
        self, zone: str, day: date, count: int
    ) -> None:
        schedule = cron("0 0/15 * * * ?", zone)
        expected = expected_fires("0 0/15 * * * ?", ZoneInfo(zone), day, 1)
        assert len(expected) == count
        assert times(schedule, expected[0], count + 1)[:count] == expected
        assert times(schedule, expected[0], count + 1)[count] > expected[-1] + timedelta(minutes=14)

    @pytest.mark.parametrize(
        ("zone", "second_pass", "expected"),
        [
            (NEW_YORK, at(2026, 11, 1, 6, 20), at(2026, 11, 1, 7)),
            (BERLIN, at(2026, 10, 25, 1, 20), at(2026, 10, 25, 2)),
            (LORD_HOWE, at(2026, 4, 4, 15, 10), at(2026, 4, 4, 15, 30)),
        ],
    )
    def test_fixed_times_asked_from_inside_the_repeat_do_not_fire_the_repeat_again(
        self, zone: str, second_pass: datetime, expected: datetime
    ) -> None:
        schedule = cron("0 0-55/5 1-3 * * ?", zone)
        assert schedule.next_after(second_pass) == expected
        assert schedule.first_at_or_after(second_pass) == expected

    @pytest.mark.parametrize(
        ("zone", "anchor", "expected"),
        [
            (
                NEW_YORK,
                at(2026, 3, 7, 7, 30),
                [
                    "2026-03-07 02:30:00-05:00",
                    "2026-03-08 03:00:00-04:00",
                    "2026-03-09 02:30:00-04:00",
                ],
            ),
            (
                BERLIN,
                at(2026, 3, 28, 1, 30),
                [
                    "2026-03-28 02:30:00+01:00",
                    "2026-03-29 03:00:00+02:00",
                    "2026-03-30 02:30:00+02:00",
                ],
            ),
            (
                LORD_HOWE,
                at(2026, 10, 2, 15, 45),
                [
                    "2026-10-03 02:15:00+10:30",
                    "2026-10-04 02:30:00+11:00",
                    "2026-10-05 02:15:00+11:00",
                ],
            ),
        ],
    )
    def test_a_calendar_day_at_a_skipped_time_fires_at_the_jump(
        self, zone: str, anchor: datetime, expected: list[str]
    ) -> None:
        schedule = every(1, "DAY", anchor, zone)
        assert walls(schedule, anchor, 3) == expected
        assert shifted(schedule, anchor, 3) == [False, True, False]

    @pytest.mark.parametrize(
        ("zone", "anchor", "expected"),
        [
            (
                NEW_YORK,
                at(2026, 10, 31, 5, 30),
                [
                    "2026-10-31 01:30:00-04:00",
                    "2026-11-01 01:30:00-04:00",
                    "2026-11-02 01:30:00-05:00",
                ],
            ),
            (
                BERLIN,
                at(2026, 10, 24, 0, 30),
                [
                    "2026-10-24 02:30:00+02:00",
                    "2026-10-25 02:30:00+02:00",
                    "2026-10-26 02:30:00+01:00",
                ],
            ),
            (
                LORD_HOWE,
                at(2026, 4, 3, 14, 45),
                [
                    "2026-04-04 01:45:00+11:00",
                    "2026-04-05 01:45:00+11:00",
                    "2026-04-06 01:45:00+10:30",
                ],
            ),
        ],
    )
    def test_a_calendar_day_at_a_repeated_time_fires_at_the_first_occurrence(
        self, zone: str, anchor: datetime, expected: list[str]
    ) -> None:
        assert walls(every(1, "DAY", anchor, zone), anchor, 3) == expected

    @pytest.mark.parametrize("zone", [NEW_YORK, BERLIN, LORD_HOWE])
    def test_a_year_of_fires_is_strictly_increasing(self, zone: str) -> None:
        fires = times(cron("0 0/15 * * * ?", zone), at(2026, 1, 1), 366 * 96)
        assert all(a < b for a, b in pairwise(fires))
