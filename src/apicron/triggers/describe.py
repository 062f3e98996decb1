"""Plain-English descriptions of schedules.

The time of day is phrased by cron-descriptor. The days, months and years are phrased here,
from the parsed fields the matcher uses, so the words cannot contradict the fire times:
cron-descriptor reads the day fields by their text and its own rules (it joins the two day
fields with "or" even where Vixie cron's rule makes them AND, and cannot know that apicron's
Unix ``1/2`` reaches Sunday).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from itertools import pairwise

from cron_descriptor import ExpressionDescriptor, Options  # type: ignore[import-untyped]

from apicron.triggers.cron_days import (
    DayRule,
    DaysOfMonth,
    LastDay,
    LastWeekdayOf,
    LastWeekdayOfMonth,
    NearestWeekday,
    NthWeekday,
    Weekdays,
)
from apicron.triggers.cron_expression import CronExpression

# Python's weekday numbers: Monday 0 ... Sunday 6.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_NTH = ("first", "second", "third", "fourth", "fifth")
_EVERY_DAY_OF_THE_MONTH = frozenset(range(1, 32))
_EVERY_WEEKDAY = frozenset(range(7))


@lru_cache(maxsize=1024)
def describe_cron(expression: CronExpression, zone_name: str) -> str:
    """E.g. "At 12:00, on the third Friday of the month (Europe/Berlin)"."""
    try:
        text = _time_of_day(expression)
    except Exception:
        # A description is a courtesy: an expression the describer cannot phrase must still
        # schedule, so it is shown as written.
        return f"Cron '{' '.join(expression.source.split())}' ({zone_name})"
    parts = [
        text,
        describe_days(expression.by_month, expression.by_week, either=expression.either),
        _months(expression.months),
        _years(expression.years),
    ]
    return f"{', '.join(part for part in parts if part)} ({zone_name})"


def _time_of_day(expression: CronExpression) -> str:
    fields = [field.upper() for field in expression.fields]
    seconds, minutes, hours = fields[:3] if expression.dialect == "quartz" else ["0", *fields[:2]]
    options = Options(locale_code="en_US", use_24hour_time_format=True)
    descriptor = ExpressionDescriptor(f"{seconds} {minutes} {hours} * * ? *", options)
    return str(descriptor.get_description())


def describe_days(by_month: DayRule | None, by_week: DayRule | None, *, either: bool) -> str:
    """The day fields in words, e.g. "on day 1 of the month, or on Friday" (Vixie cron's
    OR of two restricting day fields) or "on day 1 of the month, but only if it falls on
    Friday" (AND, when one of them starts with ``*``); "" when every day matches."""
    month_days = None if _every_day_of_the_month(by_month) else by_month
    weekdays = None if _every_weekday(by_week) else by_week
    if either and (month_days is None or weekdays is None):
        # OR with a field that matches every day matches every day.
        return ""
    if weekdays is None:
        return "" if month_days is None else _month_days(month_days)
    if month_days is None:
        return _week_days(weekdays)
    if either:
        return f"{_month_days(month_days)}, or on {describe_week_rule(weekdays)}"
    return (
        f"{_month_days(month_days)}, but only if it falls on "
        f"{describe_week_rule(weekdays, conjunction='or')}"
    )


def describe_week_rule(rule: DayRule, conjunction: str = "and") -> str:
    """A day-of-week rule as a noun phrase: "Monday through Friday", "Monday and Sunday",
    "the third Friday of the month"."""
    if isinstance(rule, NthWeekday):
        return f"the {_NTH[rule.nth - 1]} {WEEKDAYS[rule.weekday]} of the month"
    if isinstance(rule, LastWeekdayOf):
        return f"the last {WEEKDAYS[rule.weekday]} of the month"
    if isinstance(rule, Weekdays):
        return _join(_weekday_items(rule.weekdays), conjunction)
    raise TypeError(f"not a day-of-week rule: {rule!r}")


def _week_days(rule: DayRule) -> str:
    if isinstance(rule, Weekdays):
        items = _weekday_items(rule.weekdays)
        if len(items) == 1 and " through " in items[0]:
            return items[0]
        return f"only on {_join(items, 'and')}"
    return f"on {describe_week_rule(rule)}"


def _weekday_items(days: frozenset[int]) -> list[str]:
    """Runs of three or more days (wrapping past Sunday) as "X through Y", others alone,
    ordered from Monday by each item's first day."""
    if days == _EVERY_WEEKDAY:
        return ["Monday through Sunday"]
    items: list[tuple[int, str]] = []
    for start in sorted(days):
        if (start - 1) % 7 in days:
            continue
        length = 1
        while (start + length) % 7 in days:
            length += 1
        if length >= 3:
            items.append((start, f"{WEEKDAYS[start]} through {WEEKDAYS[(start + length - 1) % 7]}"))
        else:
            items.extend(((start + i) % 7, WEEKDAYS[(start + i) % 7]) for i in range(length))
    return [text for _, text in sorted(items)]


def _month_days(rule: DayRule) -> str:
    if isinstance(rule, LastDay):
        if rule.offset == 0:
            return "on the last day of the month"
        plural = "s" if rule.offset > 1 else ""
        return f"{rule.offset} day{plural} before the last day of the month"
    if isinstance(rule, LastWeekdayOfMonth):
        return "on the last weekday of the month"
    if isinstance(rule, NearestWeekday):
        if rule.day == 1:
            return "on the first weekday of the month"
        return f"on the weekday nearest day {rule.day} of the month"
    if isinstance(rule, DaysOfMonth):
        values = sorted(rule.values)
        step = _step_of(values)
        if step is not None:
            return (
                f"on every {_ordinal(step)} day of the month from day {values[0]} "
                f"to day {values[-1]}"
            )
        return f"on day {_join(_number_items(values), 'and')} of the month"
    raise TypeError(f"not a day-of-month rule: {rule!r}")


def _months(months: tuple[int, ...]) -> str:
    if len(months) == 12:
        return ""
    items = [_number_range(item, lambda n: MONTHS[n - 1]) for item in _runs(list(months))]
    return f"only in {_join(items, 'and')}"


def _years(years: tuple[int, ...] | None) -> str:
    if years is None:
        return ""
    step = _step_of(list(years))
    if step is not None:
        return f"every {_ordinal(step)} year from {years[0]} to {years[-1]}"
    return f"only in {_join(_number_items(list(years)), 'and')}"


def _every_day_of_the_month(rule: DayRule | None) -> bool:
    return rule is None or (
        isinstance(rule, DaysOfMonth) and rule.values >= _EVERY_DAY_OF_THE_MONTH
    )


def _every_weekday(rule: DayRule | None) -> bool:
    return rule is None or (isinstance(rule, Weekdays) and rule.weekdays == _EVERY_WEEKDAY)


def _step_of(values: list[int]) -> int | None:
    """The common step of three or more evenly spaced values, when it is more than 1."""
    if len(values) < 3:
        return None
    step = values[1] - values[0]
    if step < 2 or any(b - a != step for a, b in pairwise(values)):
        return None
    return step


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Sorted values as (first, last) runs of consecutive numbers; runs of two split."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    split: list[tuple[int, int]] = []
    for first, last in runs:
        if last - first == 1:
            split.extend(((first, first), (last, last)))
        else:
            split.append((first, last))
    return split


def _number_items(values: list[int]) -> list[str]:
    return [_number_range(item, str) for item in _runs(values)]


def _number_range(item: tuple[int, int], name: Callable[[int], str]) -> str:
    first, last = item
    if first == last:
        return name(first)
    return f"{name(first)} through {name(last)}"


def _join(items: list[str], conjunction: str) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def describe_calendar(unit: str, value: int, anchor: datetime, zone_name: str) -> str:
    """E.g. "Every 2 days at 09:30 Europe/Berlin, starting 2026-01-01 09:30"."""
    start = format_wall(anchor)
    if unit in ("MINUTE", "HOUR"):
        noun = unit.lower()
        every = f"Every {noun}" if value == 1 else f"Every {value} {noun}s"
        return f"{every}, starting {start} {zone_name}"
    if unit == "DAY":
        every = "Every day" if value == 1 else f"Every {value} days"
    elif unit == "WEEK":
        every = "Every week" if value == 1 else f"Every {value} weeks"
        every += f" on {anchor:%A}"
    else:
        every = "Every month" if value == 1 else f"Every {value} months"
        every += f" on day {anchor.day}"
        if anchor.day > 28:
            every += " (or the month's last day)"
    return f"{every} at {format_clock(anchor)} {zone_name}, starting {start}"


def format_wall(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d} {format_clock(moment)}"


def format_clock(moment: datetime) -> str:
    """HH:MM, or HH:MM:SS when the seconds are not zero."""
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"
