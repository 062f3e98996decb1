"""Time rules a user would not call a bug (issue 13 §3), on real zones and real 2027 dates.

Fall back:     Berlin 31 Oct 03:00 → 02:00, New York 7 Nov 02:00 → 01:00,
               Antarctica/Troll 31 Oct 03:00 → 01:00 (a two-hour repeat).
Spring ahead:  Berlin 28 Mar 02:00 → 03:00, New York 14 Mar 02:00 → 03:00.

The DST rule is Debian cron's: an expression with a wildcard or whole-range step in its
seconds, minutes or hours runs on absolute time (both passes of a repeated hour fire, a gap
has nothing to catch up); an expression naming fixed times fires a repeated wall time once,
at its first pass, and a skipped one once, at the jump.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from apicron.domain.errors import InvalidInput
from apicron.triggers import Schedule, build_trigger, parse_cron
from tests.trigger_cases import at, cron, times, walls

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TROLL = "Antarctica/Troll"


def steps(schedule: Schedule, after: datetime, count: int) -> set[timedelta]:
    return {b - a for a, b in pairwise(times(schedule, after, count))}


class TestFrequentSchedulesThroughARepeatedHour:
    def test_every_minute_in_berlin_has_no_gap_through_the_repeated_hour(self) -> None:
        # 22:00Z on 30 October is local midnight; the local day of 31 October has 25 hours.
        schedule = cron("* * * * *", BERLIN)
        assert steps(schedule, at(2027, 10, 30, 22), 25 * 60) == {timedelta(minutes=1)}
        local = walls(schedule, at(2027, 10, 30, 22), 25 * 60)
        assert local.count("2027-10-31 02:30:00+02:00") == 1
        assert local.count("2027-10-31 02:30:00+01:00") == 1

    @pytest.mark.parametrize(
        ("zone", "expression", "after", "step"),
        [
            (NEW_YORK, "*/30 * * * *", at(2027, 11, 7, 2), timedelta(minutes=30)),
            (TROLL, "*/30 * * * *", at(2027, 10, 30, 22), timedelta(minutes=30)),
            (BERLIN, "0 */15 * * * ?", at(2027, 10, 30, 22), timedelta(minutes=15)),
            (BERLIN, "0 0/15 * * * ?", at(2027, 10, 30, 22), timedelta(minutes=15)),
            (BERLIN, "0/20 * * * * ?", at(2027, 10, 31, 0), timedelta(seconds=20)),
            (BERLIN, "@hourly", at(2027, 10, 30, 22), timedelta(hours=1)),
            (NEW_YORK, "0 * * * *", at(2027, 11, 7, 2), timedelta(hours=1)),
            (TROLL, "0 0 * * * ?", at(2027, 10, 30, 22), timedelta(hours=1)),
        ],
    )
    def test_wildcard_schedules_run_on_absolute_time_through_fall_back(
        self, zone: str, expression: str, after: datetime, step: timedelta
    ) -> None:
        count = int(timedelta(hours=6) / step)
        assert steps(cron(expression, zone), after, count) == {step}

    def test_both_passes_of_the_repeated_hour_fire_in_new_york(self) -> None:
        assert walls(cron("*/30 * * * *", NEW_YORK), at(2027, 11, 7, 4), 6) == [
            "2027-11-07 00:00:00-04:00",
            "2027-11-07 00:30:00-04:00",
            "2027-11-07 01:00:00-04:00",
            "2027-11-07 01:30:00-04:00",
            "2027-11-07 01:00:00-05:00",
            "2027-11-07 01:30:00-05:00",
        ]

    def test_a_wildcard_schedule_asked_from_the_second_pass_stays_in_it(self) -> None:
        schedule = cron("*/15 * * * *", NEW_YORK)
        second_pass_0110 = at(2027, 11, 7, 6, 10)
        assert schedule.next_after(second_pass_0110) == at(2027, 11, 7, 6, 15)
        first_pass_0150 = at(2027, 11, 7, 5, 50)
        # The second pass starts at 01:00 again, before 02:00 comes.
        assert schedule.next_after(first_pass_0150) == at(2027, 11, 7, 6)

    def test_a_gap_has_no_occurrences_to_catch_up(self) -> None:
        schedule = cron("*/15 * * * *", BERLIN)
        fires = schedule.preview(at(2027, 3, 28, 0, 30), 4)
        assert [f.local.isoformat(" ") for f in fires] == [
            "2027-03-28 01:30:00+01:00",
            "2027-03-28 01:45:00+01:00",
            "2027-03-28 03:00:00+02:00",
            "2027-03-28 03:15:00+02:00",
        ]
        assert [f.dst_shifted for f in fires] == [False, False, False, False]

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("30 2 * * *", ["2027-10-31 02:30:00+02:00", "2027-11-01 02:30:00+01:00"]),
            ("0 30 2 * * ?", ["2027-10-31 02:30:00+02:00", "2027-11-01 02:30:00+01:00"]),
            (
                "15,45 2 * * *",
                [
                    "2027-10-31 02:15:00+02:00",
                    "2027-10-31 02:45:00+02:00",
                    "2027-11-01 02:15:00+01:00",
                ],
            ),
            (
                "30 1-3 * * *",
                [
                    "2027-10-31 01:30:00+02:00",
                    "2027-10-31 02:30:00+02:00",
                    "2027-10-31 03:30:00+01:00",
                ],
            ),
            (
                "5/30 2 * * *",
                [
                    "2027-10-31 02:05:00+02:00",
                    "2027-10-31 02:35:00+02:00",
                    "2027-11-01 02:05:00+01:00",
                ],
            ),
        ],
    )
    def test_fixed_times_fire_a_repeated_wall_time_once_at_its_first_pass(
        self, expression: str, expected: list[str]
    ) -> None:
        schedule = cron(expression, BERLIN)
        assert walls(schedule, at(2027, 10, 30, 22), len(expected)) == expected

    @pytest.mark.parametrize("expression", ["30 2 * * *", "0 30 2 * * ?", "30 2 28 3 *"])
    def test_fixed_times_fire_a_skipped_wall_time_once_at_the_jump(self, expression: str) -> None:
        fires = cron(expression, BERLIN).preview(at(2027, 3, 27, 12), 1)
        assert fires[0].at == at(2027, 3, 28, 1)
        assert fires[0].dst_shifted

    def test_the_preview_marks_both_passes_of_an_absolute_time_schedule(self) -> None:
        fires = cron("*/30 * * * *", NEW_YORK).preview(at(2027, 11, 7, 4, 30), 5)
        notes = [f.dst_note for f in fires]
        assert notes[0] is None
        assert notes[1] is not None and "first pass" in notes[1]
        assert notes[2] is not None and "first pass" in notes[2]
        assert notes[3] is not None and "second pass" in notes[3]
        assert notes[4] is not None and "second pass" in notes[4]

    def test_the_preview_marks_the_jump_over_a_gap_of_an_absolute_time_schedule(self) -> None:
        fires = cron("*/30 * * * *", BERLIN).preview(at(2027, 3, 28, 0, 30), 3)
        assert [f.dst_note is None for f in fires] == [True, False, True]
        note = fires[1].dst_note
        assert note is not None and "skipped" in note and "02:00" in note

    def test_the_preview_marks_both_dst_cases_of_a_fixed_time_schedule(self) -> None:
        schedule = cron("30 2 * * *", BERLIN)
        (spring,) = schedule.preview(at(2027, 3, 27, 12), 1)
        assert spring.dst_note is not None and "at the jump" in spring.dst_note
        assert "02:30" in spring.dst_note
        fall, after = schedule.preview(at(2027, 10, 30, 12), 2)
        assert fall.dst_note is not None and "once" in fall.dst_note
        assert after.dst_note is None

    @pytest.mark.parametrize(
        ("expression", "absolute"),
        [
            ("* * * * *", True),
            ("*/15 9 * * *", True),
            ("0 * * * *", True),
            ("@hourly", True),
            ("0 0/15 9 * * ?", True),
            ("*/10 30 2 * * ?", True),
            ("0/5 30 2 * * ?", True),
            ("0 30 0/2 * * ?", True),
            ("0 0 12 * * ?", False),
            ("0 5/15 9 * * ?", False),
            ("30 2 * * *", False),
            ("0,30 9-17 * * *", False),
            ("@daily", False),
        ],
    )
    def test_which_expressions_run_on_absolute_time(self, expression: str, absolute: bool) -> None:
        assert parse_cron(expression).absolute_time is absolute


def calendar(unit: str, effective: datetime, wall: datetime | None, zone: str = BERLIN) -> Schedule:
    return build_trigger(
        trigger_type="CALENDAR",
        cron_expression=None,
        interval_unit=unit,
        interval_value=1,
        effective_time=effective,
        effective_wall=wall,
        timezone=zone,
    )


class TestACalendarTaskTypedIntoAGap:
    def test_a_day_interval_keeps_the_wall_time_the_user_typed(self) -> None:
        schedule = calendar("DAY", at(2027, 3, 28, 1), datetime(2027, 3, 28, 2, 30))
        fires = schedule.preview(at(2027, 3, 27), 3)
        assert [f.at for f in fires] == [at(2027, 3, 28, 1), at(2027, 3, 29, 0, 30),
                                         at(2027, 3, 30, 0, 30)]
        assert [f.dst_shifted for f in fires] == [True, False, False]
        assert "at 02:30" in schedule.description
        assert "03:00" not in schedule.description

    @pytest.mark.parametrize(
        ("unit", "second"), [("WEEK", at(2027, 4, 4, 0, 30)), ("MONTH", at(2027, 4, 28, 0, 30))]
    )
    def test_weeks_and_months_keep_it_too(self, unit: str, second: datetime) -> None:
        schedule = calendar(unit, at(2027, 3, 28, 1), datetime(2027, 3, 28, 2, 30))
        assert times(schedule, at(2027, 3, 27), 2) == [at(2027, 3, 28, 1), second]

    def test_minutes_and_hours_stay_in_absolute_time_from_the_jump(self) -> None:
        schedule = calendar("HOUR", at(2027, 3, 28, 1), datetime(2027, 3, 28, 2, 30))
        assert times(schedule, at(2027, 3, 27), 2) == [at(2027, 3, 28, 1), at(2027, 3, 28, 2)]

    def test_a_wall_time_that_is_not_the_effective_time_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            calendar("DAY", at(2027, 3, 28, 5), datetime(2027, 3, 28, 2, 30))
        assert caught.value.field == "effective_time"


class TestDescriptionsMatchTheMatchingRule:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            (
                "0 0 */2 * 1",
                "At 00:00, on every 2nd day of the month from day 1 to day 31, "
                "but only if it falls on Monday (UTC)",
            ),
            (
                "0 0 1 * */2",
                "At 00:00, on day 1 of the month, "
                "but only if it falls on Tuesday, Thursday, Saturday or Sunday (UTC)",
            ),
            ("0 0 1 * 5", "At 00:00, on day 1 of the month, or on Friday (UTC)"),
            ("0 0 1-7 * MON", "At 00:00, on day 1 through 7 of the month, or on Monday (UTC)"),
            ("0 0 * * 1/2", "At 00:00, only on Monday, Wednesday, Friday and Sunday (UTC)"),
            ("0 0 * * 7/2", "At 00:00, only on Sunday (UTC)"),
            ("0 0 9 ? * 1-5", "At 09:00, Sunday through Thursday (UTC)"),
            ("0 0 9 ? * 7,1,2", "At 09:00, Saturday through Monday (UTC)"),
        ],
    )
    def test_day_fields_are_described_as_they_match(self, expression: str, expected: str) -> None:
        assert cron(expression).description == expected


class TestDayOfWeekStepsReachSunday:
    @pytest.mark.parametrize("expression", ["0 0 * * 1/2", "0 0 * * MON/2", "0 0 * * 1-7/2"])
    def test_monday_every_other_day_reaches_sunday(self, expression: str) -> None:
        # 4 January 2027 is a Monday.
        assert times(cron(expression), at(2027, 1, 4), 5) == [
            at(2027, 1, 4), at(2027, 1, 6), at(2027, 1, 8), at(2027, 1, 10), at(2027, 1, 11)
        ]

    def test_a_start_step_reaching_past_saturday_by_three(self) -> None:
        # 3/4: Wednesday, then Sunday (7).
        assert times(cron("0 0 * * 3/4"), at(2027, 1, 4), 3) == [
            at(2027, 1, 6), at(2027, 1, 10), at(2027, 1, 13)
        ]


class TestQuartzDayOfWeekNumbers:
    def test_the_hint_for_both_day_fields_set_never_changes_the_days_silently(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_cron("0 0 9 * * 1-5")
        message = str(caught.value)
        assert "'0 0 9 ? * 1-5'" not in message
        assert "MON-FRI" in message
        assert "1 = Sunday" in message and "Sunday through Thursday" in message

    @pytest.mark.parametrize(
        ("expression", "fragments"),
        [
            ("0 0 9 ? * 1-5", ["in Quartz 1 = Sunday", "1-5 is Sunday through Thursday",
                               "SUN-THU", "MON-FRI"]),
            ("0 0 12 ? * 6#3", ["6#3 is the third Friday", "FRI#3"]),
            ("0 0 12 ? * 2", ["2 is Monday", "MON"]),
        ],
    )
    def test_numeric_day_of_week_gets_a_warning(
        self, expression: str, fragments: list[str]
    ) -> None:
        (warning,) = cron(expression).warnings
        for fragment in fragments:
            assert fragment in warning, warning

    @pytest.mark.parametrize(
        "expression",
        ["0 0 9 ? * MON-FRI", "0 0 9 ? * *", "0 0 9 1 * ?", "0 0 9 ? * 1-7", "0 0 9 ? * L",
         "0 9 * * 1-5", "0 0 9 ? * */2"],
    )
    def test_names_and_unix_days_need_no_warning(self, expression: str) -> None:
        assert cron(expression).warnings == ()

    def test_zero_in_quartz_day_of_week_says_how_quartz_counts(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_cron("0 0 9 ? * 0")
        assert "1 = Sunday" in str(caught.value) and "SUN" in str(caught.value)

    @pytest.mark.parametrize(
        ("expression", "hint"),
        [
            ("0 0 0 ? * FRI-MON", "'FRI-SAT,SUN-MON'"),
            ("0 0 * * FRI-MON", "'FRI-SAT,SUN-MON'"),
            ("0 0 * * 5-1", "'5-6,0-1'"),
            ("0 0 0 1 NOV-FEB ?", "'NOV-DEC,JAN-FEB'"),
        ],
    )
    def test_a_backwards_range_is_hinted_in_the_words_it_was_written_in(
        self, expression: str, hint: str
    ) -> None:
        # Quartz reads '6-7,1-2' as Friday to Monday, a Unix reader as Saturday to Tuesday.
        with pytest.raises(InvalidInput) as caught:
            parse_cron(expression)
        assert hint in str(caught.value)
