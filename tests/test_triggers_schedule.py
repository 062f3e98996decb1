"""build_trigger's validation, the Schedule's bounds, previews, descriptions and zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from apicron.domain.errors import InvalidInput
from apicron.triggers import FireTime, Trigger, build_trigger, load_zone
from tests.trigger_cases import START, at, cron, every, times


def build(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "trigger_type": "CRON",
        "cron_expression": "0 0 12 ? * MON",
        "interval_unit": None,
        "interval_value": None,
        "effective_time": START,
        "timezone": "UTC",
        "end_time": None,
    }
    return build_trigger(**{**fields, **overrides})


def refused(**overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        build(**overrides)
    return caught.value


class TestBuildTrigger:
    @pytest.mark.parametrize("trigger_type", ["cron", "SIMPLE", "", None, 3])
    def test_an_unknown_trigger_type_is_refused(self, trigger_type: object) -> None:
        error = refused(trigger_type=trigger_type)
        assert error.field == "trigger_type"
        assert "must be one of CRON, CALENDAR" in str(error)

    @pytest.mark.parametrize(("name", "value"), [("interval_unit", "DAY"), ("interval_value", 2)])
    def test_interval_fields_must_be_absent_for_cron(self, name: str, value: object) -> None:
        error = refused(**{name: value})
        assert error.field == name
        assert "must be absent when trigger_type is CRON" in str(error)

    def test_cron_needs_an_expression(self) -> None:
        error = refused(cron_expression=None)
        assert error.field == "cron_expression"
        assert "required when trigger_type is CRON" in str(error)

    def test_calendar_refuses_a_cron_expression(self) -> None:
        error = refused(trigger_type="CALENDAR", interval_unit="DAY")
        assert error.field == "cron_expression"
        assert "must be absent when trigger_type is CALENDAR" in str(error)

    @pytest.mark.parametrize("unit", [None, "YEAR", "day", "SECOND"])
    def test_calendar_needs_a_known_unit(self, unit: object) -> None:
        error = refused(trigger_type="CALENDAR", cron_expression=None, interval_unit=unit)
        assert error.field == "interval_unit"
        assert "MINUTE, HOUR, DAY, WEEK, MONTH" in str(error)

    @pytest.mark.parametrize("value", [0, 60, -1, True, "5", 2.0])
    def test_calendar_interval_value_must_be_1_to_59(self, value: object) -> None:
        error = refused(
            trigger_type="CALENDAR", cron_expression=None, interval_unit="DAY", interval_value=value
        )
        assert error.field == "interval_value"
        assert "whole number 1-59" in str(error)

    @pytest.mark.parametrize(
        "name",
        [
            "",
            "   ",
            "Mars/Olympus",
            "Europe/Berlin ",
            "localtime",
            "../etc/passwd",
            "America",
            None,
        ],
    )
    def test_an_unknown_zone_is_refused(self, name: object) -> None:
        error = refused(timezone=name)
        assert error.field == "timezone"

    def test_a_zone_in_the_wrong_case_gets_a_suggestion(self) -> None:
        assert "did you mean 'America/New_York'?" in str(refused(timezone="america/new_york"))

    @pytest.mark.parametrize("name", ["effective_time", "end_time"])
    def test_times_without_an_offset_are_refused(self, name: str) -> None:
        error = refused(**{name: datetime(2026, 1, 1)})
        assert error.field == name
        assert "timezone-aware" in str(error)

    def test_end_time_before_effective_time_is_refused(self) -> None:
        error = refused(end_time=START - timedelta(seconds=1))
        assert error.field == "end_time"

    @pytest.mark.parametrize("expression", ["0 0 0 1 1 ? 2020", "0 0 0 30 2 ?", "0 0 31 2 *"])
    def test_an_expression_that_never_fires_is_refused(self, expression: str) -> None:
        error = refused(cron_expression=expression)
        assert error.field == "cron_expression"
        assert "never fires at or after effective_time 2026-01-01T00:00:00Z" in str(error)

    def test_an_end_time_that_leaves_no_fire_is_refused(self) -> None:
        error = refused(end_time=at(2026, 1, 5, 11))
        assert error.field == "end_time"
        assert "the first one after effective_time" in str(error)
        assert "2026-01-05T12:00:00Z" in str(error)

    def test_offsets_are_normalised_to_utc(self) -> None:
        berlin_noon = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
        schedule = every(1, "DAY", berlin_noon, "Europe/Berlin")
        assert schedule.effective_time == at(2026, 1, 1, 11)
        assert schedule.effective_time.tzinfo is UTC


class TestSchedule:
    def test_a_schedule_is_a_trigger(self) -> None:
        trigger: Trigger = cron("0 0 12 ? * MON")
        assert trigger.next_after(START) == at(2026, 1, 5, 12)

    def test_nothing_fires_before_effective_time(self) -> None:
        schedule = cron("0 0 * * * ?", effective=at(2026, 1, 1, 10, 30))
        assert schedule.first_at_or_after(at(2020, 1, 1)) == at(2026, 1, 1, 11)
        assert schedule.next_after(at(2020, 1, 1)) == at(2026, 1, 1, 11)

    def test_an_effective_time_on_a_fire_fires_there(self) -> None:
        schedule = cron("0 0 * * * ?", effective=at(2026, 1, 1, 10))
        assert schedule.first_at_or_after(at(2020, 1, 1)) == at(2026, 1, 1, 10)

    def test_cron_fires_on_whole_seconds(self) -> None:
        schedule = cron("* * * * * ?")
        half_past = datetime(2026, 3, 1, 10, 0, 0, 500_000, tzinfo=UTC)
        assert schedule.first_at_or_after(half_past) == at(2026, 3, 1, 10, 0, 1)
        assert schedule.first_at_or_after(at(2026, 3, 1, 10)) == at(2026, 3, 1, 10)
        assert schedule.next_after(at(2026, 3, 1, 10)) == at(2026, 3, 1, 10, 0, 1)

    def test_end_time_is_inclusive_for_cron(self) -> None:
        schedule = cron("0 0 12 * * ?", end=at(2026, 1, 3, 12))
        assert times(schedule, START, 10) == [at(2026, 1, d, 12) for d in (1, 2, 3)]
        assert schedule.next_after(at(2026, 1, 3, 12)) is None

    def test_inputs_in_other_offsets_are_accepted(self) -> None:
        schedule = cron("0 0 12 * * ?")
        tokyo = datetime(2026, 1, 2, 20, tzinfo=timezone(timedelta(hours=9)))
        assert schedule.next_after(tokyo) == at(2026, 1, 2, 12)

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            cron("0 0 12 * * ?").next_after(datetime(2026, 1, 1))
        assert caught.value.field == "time"

    def test_a_preview_holds_utc_and_local_times(self) -> None:
        [fire] = cron("0 0 9 ? * MON", "Europe/Berlin").preview(START, 1)
        assert fire == FireTime(
            at=at(2026, 1, 5, 8),
            local=datetime(2026, 1, 5, 9, tzinfo=load_zone("Europe/Berlin")),
            dst_shifted=False,
        )
        assert fire.at.tzinfo is UTC

    def test_a_preview_starts_at_effective_time_and_stops_at_the_end(self) -> None:
        schedule = cron("0 0 12 * * ?", effective=at(2026, 1, 2), end=at(2026, 1, 4, 12))
        assert [f.at for f in schedule.preview(START, 10)] == [
            at(2026, 1, 2, 12),
            at(2026, 1, 3, 12),
            at(2026, 1, 4, 12),
        ]
        assert schedule.preview(START, 0) == []

    def test_a_negative_preview_count_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            cron("0 0 12 * * ?").preview(START, -1)
        assert caught.value.field == "count"

    def test_a_schedule_is_immutable(self) -> None:
        schedule = cron("0 0 12 * * ?")
        with pytest.raises(AttributeError):
            schedule.end_time = START  # type: ignore[misc]


class TestDescription:
    @pytest.mark.parametrize(
        ("expression", "zone", "expected"),
        [
            (
                "0 0 12 ? * 6#3",
                "Europe/Berlin",
                "At 12:00, on the third Friday of the month (Europe/Berlin)",
            ),
            ("0 15 10 ? * 6L", "UTC", "At 10:15, on the last Friday of the month (UTC)"),
            ("0 9 * * 1-5", "UTC", "At 09:00, Monday through Friday (UTC)"),
            ("0 0 9 ? * 2-6", "UTC", "At 09:00, Monday through Friday (UTC)"),
            ("0 0 9 ? * MON-FRI", "UTC", "At 09:00, Monday through Friday (UTC)"),
            ("0 0 0 ? * 1", "UTC", "At 00:00, only on Sunday (UTC)"),
            ("0 0 0 ? * L", "UTC", "At 00:00, only on Saturday (UTC)"),
            ("0 0 * * 7", "UTC", "At 00:00, only on Sunday (UTC)"),
            ("0 0 * * 0-7", "UTC", "At 00:00 (UTC)"),
            ("0 30 14 * * ?", "UTC", "At 14:30 (UTC)"),
            ("0 0 1 * 5", "UTC", "At 00:00, on day 1 of the month, or on Friday (UTC)"),
            ("0 0 0 LW * ?", "UTC", "At 00:00, on the last weekday of the month (UTC)"),
            ("0 0/15 * * * ?", "UTC", "Every 15 minutes (UTC)"),
            ("* * * * * ?", "UTC", "Every second (UTC)"),
            (
                "0 0 0 1 1 ? 2027",
                "UTC",
                "At 00:00, on day 1 of the month, only in January, only in 2027 (UTC)",
            ),
        ],
    )
    def test_cron_descriptions_read_right(self, expression: str, zone: str, expected: str) -> None:
        assert cron(expression, zone).description == expected

    def test_six_quartz_fields_read_as_seven_with_any_year(self) -> None:
        assert cron("0 0 12 ? * MON").description == cron("0 0 12 ? * MON *").description
        assert cron("0 0 12 ? * MON").description == "At 12:00, only on Monday (UTC)"

    @pytest.mark.parametrize(
        ("value", "unit", "anchor", "expected"),
        [
            (
                2,
                "DAY",
                at(2026, 1, 1, 8, 30),
                "Every 2 days at 09:30 Europe/Berlin, starting 2026-01-01 09:30",
            ),
            (
                1,
                "DAY",
                at(2026, 1, 1, 8, 30),
                "Every day at 09:30 Europe/Berlin, starting 2026-01-01 09:30",
            ),
            (
                15,
                "MINUTE",
                at(2026, 1, 1, 8, 30),
                "Every 15 minutes, starting 2026-01-01 09:30 Europe/Berlin",
            ),
            (
                1,
                "HOUR",
                at(2026, 1, 1, 8, 30),
                "Every hour, starting 2026-01-01 09:30 Europe/Berlin",
            ),
            (
                2,
                "WEEK",
                at(2026, 1, 1, 8, 30),
                "Every 2 weeks on Thursday at 09:30 Europe/Berlin, starting 2026-01-01 09:30",
            ),
            (
                1,
                "MONTH",
                at(2026, 1, 31, 8, 30),
                "Every month on day 31 (or the month's last day) at 09:30 Europe/Berlin, "
                "starting 2026-01-31 09:30",
            ),
            (
                3,
                "MONTH",
                at(2026, 1, 15, 8, 30, 5),
                "Every 3 months on day 15 at 09:30:05 Europe/Berlin, starting 2026-01-15 09:30:05",
            ),
        ],
    )
    def test_calendar_descriptions_read_right(
        self, value: int, unit: str, anchor: datetime, expected: str
    ) -> None:
        assert every(value, unit, anchor, "Europe/Berlin").description == expected

    def test_an_end_time_is_described(self) -> None:
        schedule = cron("0 0 12 * * ?", "Europe/Berlin", end=at(2026, 12, 31, 22, 59))
        assert schedule.description == "At 12:00 (Europe/Berlin), until 2026-12-31 23:59"


class TestLoadZone:
    @pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Australia/Lord_Howe"])
    def test_it_loads_iana_zones(self, name: str) -> None:
        assert load_zone(name).key == name

    def test_it_refuses_an_empty_name(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            load_zone("")
        assert str(caught.value).startswith("timezone: is required")


def test_an_every_second_cron_yields_a_whole_day() -> None:
    """Its speed is measured by ``python -m bench.trigger_speed``, not asserted here."""
    schedule = cron("* * * * * ?", "Europe/Berlin")
    fires = times(schedule, at(2026, 6, 1), 86_400)
    assert fires[-1] == at(2026, 6, 1, 23, 59, 59)
    assert len(set(fires)) == 86_400


def test_an_effective_time_at_the_start_of_time_is_answered_not_crashed() -> None:
    first = datetime.min.replace(tzinfo=UTC)
    # In Tokyo that instant is 09:18:59 (local mean time) on 1 January of year 1: it fires.
    tokyo = build(cron_expression="*/30 * * * *", timezone="Asia/Tokyo", effective_time=first)
    (fire,) = tokyo.preview(first, 1)
    assert fire.local.isoformat(" ") == "0001-01-01 09:30:00+09:18:59"
    # In New York it is still year 0, which has no datetime: refused, not a crash.
    with pytest.raises(InvalidInput) as caught:
        build(cron_expression="*/30 * * * *", timezone="America/New_York", effective_time=first)
    assert caught.value.field == "cron_expression"
