"""Business calendars (issue 18): the value rules, public holidays from the `holidays`
library (three countries, a subdivision, China's make-up working days), and a task's
schedule with its calendars applied (SKIP, NEXT, PREVIOUS, no duplicates, DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from apicron.calendars.days import CalendarDays
from apicron.calendars.holiday_source import check_holiday_source
from apicron.calendars.schedule import CalendarSchedule, apply_calendars
from apicron.domain.calendars import Calendar, CalendarCreate, parse_entry
from apicron.domain.errors import InvalidInput
from apicron.domain.validation import validate
from apicron.triggers import Schedule, build_trigger

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def calendar(name: str = "cal", **fields: Any) -> Calendar:
    values: dict[str, Any] = {
        "id": name, "name": name, "description": "", "exclude_dates": [],
        "exclude_weekdays": [], "holidays": None, "include_dates": [],
        "created_at": CREATED, "updated_at": CREATED, **fields,
    }
    return Calendar.model_validate(values)


def cron(expression: str, zone: str = "Europe/Berlin", *,
         effective: datetime = CREATED, end: datetime | None = None) -> Schedule:
    return build_trigger(trigger_type="CRON", cron_expression=expression, interval_unit=None,
                         interval_value=None, effective_time=effective, timezone=zone,
                         end_time=end)


def local(schedule: Schedule, at: datetime) -> str:
    return at.astimezone(schedule.zone).strftime("%a %Y-%m-%d %H:%M")


def events(schedule: Schedule, start: datetime, count: int) -> list[tuple[str, str]]:
    """The next ``count`` events: (local time, "run" / the moved note / the skip reason)."""
    assert isinstance(schedule, CalendarSchedule)
    found: list[tuple[str, str]] = []
    at = schedule.first_at_or_after(start)
    while at is not None and len(found) < count:
        outcome = schedule.outcome(at)
        found.append((local(schedule, at), outcome.skipped or outcome.moved or "run"))
        at = schedule.next_after(at)
    return found


# --- value rules ---------------------------------------------------------------------------


def test_entries_are_a_date_or_an_inclusive_range() -> None:
    assert parse_entry("2027-12-24") == (date(2027, 12, 24), date(2027, 12, 24))
    assert parse_entry("2027-12-24..2027-12-31") == (date(2027, 12, 24), date(2027, 12, 31))


@pytest.mark.parametrize(("entry", "rule"), [
    ("2027-12-31..2027-12-24", "ends before it starts"),
    ("24.12.2027", "YYYY-MM-DD"),
    ("2027-02-30", "is not a date"),
    ("2027-12-24..", "YYYY-MM-DD"),
    ("2027-01-01..2040-01-01", "longer than 3660 days"),
])
def test_a_bad_entry_is_refused_naming_its_place(entry: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(CalendarCreate, {"name": "bad", "exclude_dates": ["2027-01-01", entry]})
    assert caught.value.field == "exclude_dates[1]"
    assert rule in caught.value.rule


def test_a_bad_weekday_and_a_bad_country_code_name_their_fields() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(CalendarCreate, {"name": "bad", "exclude_weekdays": ["SATURDAY"],
                                  "holidays": {"country": "de"}})
    fields = {p.field for p in caught.value.problems}
    assert fields == {"exclude_weekdays[0]", "holidays.country"}


def test_entries_are_normalised_so_export_then_apply_changes_nothing() -> None:
    spec = validate(CalendarCreate, {"name": "norm", "exclude_dates": [" 2027-12-24..2027-12-24 "]})
    assert spec.exclude_dates == ["2027-12-24"]


def test_the_library_refuses_an_unknown_country_or_subdivision() -> None:
    check_holiday_source("DE", "BY")
    with pytest.raises(InvalidInput) as caught:
        check_holiday_source("XX", None)
    assert caught.value.field == "holidays.country"
    with pytest.raises(InvalidInput) as caught:
        check_holiday_source("DE", "ZZ")
    assert caught.value.field == "holidays.subdivision"
    assert "BY" in caught.value.rule  # the known ones are listed


# --- which days are excluded, and why --------------------------------------------------------


def test_german_holidays_and_a_bavarian_one() -> None:
    federal = CalendarDays([calendar("de", holidays={"country": "DE"})])
    bavaria = CalendarDays([calendar("by", holidays={"country": "DE", "subdivision": "BY"})])
    christmas = federal.exclusion(date(2027, 12, 25))
    assert christmas is not None
    assert christmas.entry == "Christmas Day (DE)"
    assert christmas.text == "excluded by calendar de: Christmas Day (DE)"
    # Epiphany is a holiday in Bavaria, not in Germany as a whole.
    assert federal.included(date(2027, 1, 6))
    epiphany = bavaria.exclusion(date(2027, 1, 6))
    assert epiphany is not None and epiphany.entry == "Epiphany (DE-BY)"
    assert bavaria.included(date(2027, 1, 7))


def test_us_holidays_include_the_observed_day() -> None:
    days = CalendarDays([calendar("us", holidays={"country": "US"})])
    observed = days.exclusion(date(2027, 7, 5))  # 4 July 2027 is a Sunday
    assert observed is not None and "Independence Day" in observed.entry
    assert observed.entry.endswith("(US)")
    assert days.included(date(2027, 7, 6))


def test_chinas_make_up_working_day_is_included_though_weekends_are_excluded() -> None:
    days = CalendarDays([calendar("cn", holidays={"country": "CN"},
                                  exclude_weekdays=["SAT", "SUN"])])
    # 2025-01-26 is a Sunday worked to make up for the Spring Festival week.
    assert date(2025, 1, 26).weekday() == 6
    assert days.included(date(2025, 1, 26))
    spring = days.exclusion(date(2025, 1, 29))
    assert spring is not None and "Spring Festival" in spring.entry
    sunday = days.exclusion(date(2025, 1, 19))
    assert sunday is not None and sunday.entry == "exclude_weekdays SUN"


def test_which_rule_wins_on_one_calendar() -> None:
    days = CalendarDays([calendar(
        "office", holidays={"country": "DE"}, exclude_weekdays=["SAT", "SUN"],
        exclude_dates=["2027-12-24..2027-12-31"], include_dates=["2027-12-27"])])
    assert days.included(date(2027, 12, 27))  # include_dates beat the range
    holiday = days.exclusion(date(2027, 12, 25))
    assert holiday is not None and holiday.entry == "exclude_dates 2027-12-24..2027-12-31"
    assert days.included(date(2027, 12, 23))


def test_a_day_any_calendar_excludes_is_excluded_naming_the_first() -> None:
    days = CalendarDays([calendar("one", exclude_dates=["2027-06-01"]),
                         calendar("two", exclude_dates=["2027-06-01", "2027-06-02"])])
    first = days.exclusion(date(2027, 6, 1))
    second = days.exclusion(date(2027, 6, 2))
    assert first is not None and first.calendar == "one"
    assert second is not None and second.calendar == "two"


# --- a task's schedule with its calendars ------------------------------------------------------

CHRISTMAS_WEEK = datetime(2027, 12, 22, tzinfo=UTC)
GERMANY = calendar("de", holidays={"country": "DE"}, exclude_weekdays=["SAT", "SUN"])


def test_skip_records_each_excluded_occurrence_at_its_own_time() -> None:
    schedule = apply_calendars(cron("0 0 9 * * ?"), [GERMANY], "SKIP")
    assert events(schedule, CHRISTMAS_WEEK, 6) == [
        ("Wed 2027-12-22 09:00", "run"),
        ("Thu 2027-12-23 09:00", "run"),
        ("Fri 2027-12-24 09:00", "run"),
        ("Sat 2027-12-25 09:00", "excluded by calendar de: Christmas Day (DE)"),
        ("Sun 2027-12-26 09:00", "excluded by calendar de: Second Day of Christmas (DE)"),
        ("Mon 2027-12-27 09:00", "run"),
    ]


def test_a_move_onto_an_occurrence_is_recorded_not_doubled() -> None:
    """Daily at 09:00, NEXT: Saturday's and Sunday's would land on Monday 09:00, which has
    its own occurrence: one execution runs there, the others are SKIPPED saying so."""
    schedule = apply_calendars(cron("0 0 9 * * ?"), [GERMANY], "NEXT")
    found = events(schedule, CHRISTMAS_WEEK, 6)
    assert [t for t, _ in found] == [
        "Wed 2027-12-22 09:00", "Thu 2027-12-23 09:00", "Fri 2027-12-24 09:00",
        "Sat 2027-12-25 09:00", "Sun 2027-12-26 09:00", "Mon 2027-12-27 09:00"]
    assert found[3][1] == ("excluded by calendar de: Christmas Day (DE); moved to "
                           "2027-12-27 09:00, where another occurrence already runs")
    assert found[5][1] == "run"


def test_next_moves_to_the_same_time_on_the_next_included_day() -> None:
    schedule = apply_calendars(cron("0 30 9 ? * MON"), [GERMANY], "NEXT")
    assert events(schedule, datetime(2027, 3, 20, tzinfo=UTC), 3) == [
        ("Mon 2027-03-22 09:30", "run"),
        ("Tue 2027-03-30 09:30",
         "moved from 2027-03-29 09:30: excluded by calendar de: Easter Monday (DE)"),
        ("Mon 2027-04-05 09:30", "run"),
    ]


def test_previous_moves_back_over_a_run_of_excluded_days() -> None:
    """Easter Monday's occurrence moves back over Sunday, Saturday and Good Friday."""
    schedule = apply_calendars(cron("0 30 9 ? * MON"), [GERMANY], "PREVIOUS")
    assert events(schedule, datetime(2027, 3, 23, tzinfo=UTC), 2) == [
        ("Thu 2027-03-25 09:30",
         "moved from 2027-03-29 09:30: excluded by calendar de: Easter Monday (DE)"),
        ("Mon 2027-04-05 09:30", "run"),
    ]


def test_the_earliest_of_two_occurrences_moved_to_one_instant_runs() -> None:
    """Weekend-only task, weekends excluded, NEXT: both land on Monday 10:00; Saturday's
    runs there, Sunday's is recorded."""
    weekends = calendar("weekdays", exclude_weekdays=["SAT", "SUN"])
    schedule = apply_calendars(cron("0 0 10 ? * SAT,SUN"), [weekends], "NEXT")
    assert events(schedule, datetime(2027, 6, 4, tzinfo=UTC), 3) == [
        ("Sun 2027-06-06 10:00", "excluded by calendar weekdays: exclude_weekdays SUN; moved "
                                 "to 2027-06-07 10:00, where another occurrence already runs"),
        ("Mon 2027-06-07 10:00",
         "moved from 2027-06-05 10:00: excluded by calendar weekdays: exclude_weekdays SAT"),
        ("Sun 2027-06-13 10:00", "excluded by calendar weekdays: exclude_weekdays SUN; moved "
                                 "to 2027-06-14 10:00, where another occurrence already runs"),
    ]


def test_a_move_never_leaves_the_tasks_end_or_effective_time() -> None:
    excluded = calendar("x", exclude_dates=["2027-06-07"])
    end = datetime(2027, 6, 7, 23, 0, tzinfo=UTC)
    late = apply_calendars(cron("0 0 9 * * ?", "UTC", end=end), [excluded], "NEXT")
    assert events(late, datetime(2027, 6, 7, tzinfo=UTC), 2) == [
        ("Mon 2027-06-07 09:00", "excluded by calendar x: exclude_dates 2027-06-07; the next "
                                 "included day 2027-06-08 is past the task's end_time")]
    effective = datetime(2027, 6, 7, tzinfo=UTC)
    early = apply_calendars(cron("0 0 9 * * ?", "UTC", effective=effective), [excluded],
                            "PREVIOUS")
    assert events(early, effective, 2) == [
        ("Mon 2027-06-07 09:00", "excluded by calendar x: exclude_dates 2027-06-07; the "
                                 "previous included day 2027-06-06 is past the task's "
                                 "effective_time"),
        ("Tue 2027-06-08 09:00", "run")]


def test_a_calendar_that_excludes_every_day_still_records_each_occurrence() -> None:
    never = calendar("never", exclude_weekdays=["MON", "TUE", "WED", "THU", "FRI", "SAT",
                                                "SUN"])
    schedule = apply_calendars(cron("0 0 9 * * ?", "UTC"), [never], "NEXT")
    found = events(schedule, datetime(2027, 6, 7, tzinfo=UTC), 2)
    assert [t for t, _ in found] == ["Mon 2027-06-07 09:00", "Tue 2027-06-08 09:00"]
    assert found[0][1].endswith("no next included day within 31 days")


def test_a_wall_time_moved_into_a_dst_gap_fires_at_the_jump() -> None:
    """Berlin skips 02:00-03:00 on Sunday 2027-03-28: Saturday's 02:30, moved NEXT, fires
    at the jump (03:00 CEST), the fixed-time rule of every trigger; the preview says so."""
    saturday = calendar("sat", exclude_dates=["2027-03-27"])
    schedule = apply_calendars(cron("0 30 2 * * ?"), [saturday], "NEXT")
    assert isinstance(schedule, CalendarSchedule)
    fires, changes = schedule.explain(datetime(2027, 3, 26, 12, tzinfo=UTC), 2)
    # Sunday's own 02:30 is in the gap too, so it fires at the jump, and Saturday's (moved
    # onto the same instant) is recorded, not doubled.
    assert [f.at for f in fires] == [datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
                                     datetime(2027, 3, 29, 0, 30, tzinfo=UTC)]
    assert fires[0].dst_shifted
    assert [c.text for c in changes] == ["2027-03-27 skipped: exclude_dates 2027-03-27"]


def test_a_weekly_wall_time_moved_into_a_dst_gap_fires_once_at_the_jump() -> None:
    saturday = calendar("sat", exclude_dates=["2027-03-27"])
    schedule = apply_calendars(cron("0 30 2 ? * SAT"), [saturday], "NEXT")
    assert isinstance(schedule, CalendarSchedule)
    fires, changes = schedule.explain(datetime(2027, 3, 26, 12, tzinfo=UTC), 2)
    assert [f.at for f in fires] == [datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
                                     datetime(2027, 4, 3, 0, 30, tzinfo=UTC)]
    assert fires[0].dst_shifted and fires[0].dst_note is not None
    assert [c.text for c in changes] == ["2027-03-27 moved to 2027-03-28: exclude_dates "
                                         "2027-03-27"]


def test_the_preview_names_what_each_calendar_entry_did() -> None:
    schedule = apply_calendars(cron("0 0 9 * * ?"), [GERMANY], "SKIP")
    assert isinstance(schedule, CalendarSchedule)
    fires, changes = schedule.explain(CHRISTMAS_WEEK, 4)
    assert [local(schedule, f.at) for f in fires] == [
        "Wed 2027-12-22 09:00", "Thu 2027-12-23 09:00", "Fri 2027-12-24 09:00",
        "Mon 2027-12-27 09:00"]
    assert [c.text for c in changes] == ["2027-12-25 skipped: Christmas Day (DE)",
                                         "2027-12-26 skipped: Second Day of Christmas (DE)"]
    assert schedule.description.endswith("; on days excluded by calendar de: skipped")


@pytest.mark.parametrize("policy", ["SKIP", "NEXT", "PREVIOUS"])
def test_every_occurrence_leaves_exactly_one_event(policy: str) -> None:
    """Property: an every-20-minutes trigger over a fortnight with holidays and weekends:
    each of the trigger's fires is one event (run where it is, run moved, or recorded),
    events are strictly increasing (unique keys), and runs fall on included days only."""
    plain = cron("0 0/20 * * * ?")
    schedule = apply_calendars(plain, [GERMANY], policy)
    assert isinstance(schedule, CalendarSchedule)
    start, end = datetime(2027, 12, 20, tzinfo=UTC), datetime(2028, 1, 3, tzinfo=UTC)
    occurrences = []
    at = plain.first_at_or_after(start)
    while at is not None and at < end:
        occurrences.append(at)
        at = plain.next_after(at)
    window_start = start if policy != "PREVIOUS" else datetime(2027, 12, 1, tzinfo=UTC)
    seen: list[datetime] = []
    owners: list[datetime] = []
    at = schedule.first_at_or_after(window_start)
    while at is not None and at < datetime(2028, 2, 1, tzinfo=UTC):
        outcome = schedule.outcome(at)
        if start <= outcome.occurrence < end:
            seen.append(at)
            owners.append(outcome.occurrence)
            day = at.astimezone(schedule.zone).date()
            assert (outcome.skipped is None) == schedule.days.included(day)
        at = schedule.next_after(at)
    assert seen == sorted(set(seen))
    # Each occurrence is accounted for once: by its own event, or (moved) by one event
    # that names it; the ones merged into another are their own SKIPPED event.
    assert sorted(owners) == occurrences
