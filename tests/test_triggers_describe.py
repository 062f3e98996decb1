"""Descriptions never contradict the fire times: the days a description names are read
back from its words and compared with the days the independent reference matcher in
``trigger_cases`` selects, for generated Unix and Quartz expressions."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_triggers_properties import DAY_NAMES, plain_field, schedule_or_skip
from tests.trigger_cases import QUARTZ_DAYS, UNIX_DAYS, Reference, _expand, _expand_week

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAY = "|".join(WEEKDAYS)
_WEEKDAY_ITEM = re.compile(rf"({_WEEKDAY})(?: through ({_WEEKDAY}))?")
_EVERY_NTH_DAY = re.compile(r"on every (\d+)\w\w day of the month from day (\d+) to day (\d+)")
_DAY_LIST = re.compile(r"on day ([\d, andthrough]+) of the month")
DESCRIBE = settings(max_examples=300, deadline=None)


def weekdays_named(text: str) -> set[int]:
    """Python weekdays a description names, "X through Y" running on past Sunday."""
    named: set[int] = set()
    for match in _WEEKDAY_ITEM.finditer(text):
        day = WEEKDAYS.index(match[1])
        last = WEEKDAYS.index(match[2]) if match[2] else day
        named.add(day)
        while day != last:
            day = (day + 1) % 7
            named.add(day)
    return named


def month_days_named(text: str) -> set[int] | None:
    """The days of the month a description names; None when it names none."""
    if match := _EVERY_NTH_DAY.search(text):
        step, first, last = (int(group) for group in match.groups())
        return set(range(first, last + 1, step))
    if match := _DAY_LIST.search(text):
        named: set[int] = set()
        for item in re.split(r", | and ", match[1]):
            low, _, high = item.partition(" through ")
            named |= set(range(int(low), int(high or low) + 1))
        return named
    return None


def unix_weekdays(dow: str) -> set[int]:
    return {(v + 6) % 7 for v in _expand_week(dow, 0, 7, UNIX_DAYS, 6)}


@DESCRIBE
@given(
    dom=plain_field(1, 31, single_ranges=False),
    dow=plain_field(0, 6, DAY_NAMES, 0, single_ranges=False)
    | st.sampled_from(["7", "5-7", "0-7", "1/2", "MON/2", "3/4", "7/2"]),
)
def test_unix_day_fields_are_described_as_they_match(dom: str, dow: str) -> None:
    expression = f"0 12 {dom} * {dow}"
    description = schedule_or_skip(expression, "UTC").description
    weekdays = unix_weekdays(dow)
    days = _expand(dom, 1, 31, {}, 31)
    either = not dom.startswith("*") and not dow.startswith("*")
    restricts_week = dow != "*" and len(weekdays) < 7
    restricts_month = dom != "*" and len(days) < 31
    if either and restricts_week and restricts_month:
        assert ", or on " in description and "only if" not in description, description
    elif restricts_week and restricts_month:
        assert "but only if it falls on" in description and ", or on" not in description
    if restricts_week and (restricts_month or not either):
        assert weekdays_named(description) == weekdays, description
    if restricts_month and (restricts_week or not either):
        assert month_days_named(description) == days, description
    if either and not (restricts_week and restricts_month):
        # OR with a field that matches every day: every day.
        assert weekdays_named(description) == set() and month_days_named(description) is None
    # and the words hold for the fires: each fire's day is one the description allows
    reference = Reference(expression)
    first = date(2027, 1, 1)
    for offset in range(400):
        day = first + timedelta(days=offset)
        if not reference.matches_day(day):
            continue
        in_month = day.day in (month_days_named(description) or set(range(1, 32)))
        in_week = day.weekday() in (weekdays_named(description) or set(range(7)))
        assert (in_month or in_week) if ", or on " in description else (in_month and in_week)


@DESCRIBE
@given(dow=plain_field(1, 7, DAY_NAMES, 1))
def test_quartz_weekdays_are_described_as_they_match(dow: str) -> None:
    description = schedule_or_skip(f"0 0 12 ? * {dow}", "UTC").description
    weekdays = {(v + 5) % 7 for v in _expand_week(dow, 1, 7, QUARTZ_DAYS, 7)}
    assert weekdays_named(description) == (set() if len(weekdays) == 7 else weekdays)
