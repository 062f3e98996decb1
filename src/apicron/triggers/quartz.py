"""The Quartz dialect: ``sec min hour day-of-month month day-of-week [year]``.

Day-of-week runs 1-7 from Sunday, exactly one day field is ``?``, and the day fields
take the specials ``L``, ``L-n``, ``nW``, ``LW``, ``nL`` and ``n#k``.
"""

from __future__ import annotations

import re

from apicron.domain.errors import InvalidInput
from apicron.triggers.cron_days import (
    SATURDAY,
    DayRule,
    DaysOfMonth,
    LastDay,
    LastWeekdayOf,
    LastWeekdayOfMonth,
    NearestWeekday,
    NthWeekday,
    Weekdays,
    day_tables,
)
from apicron.triggers.cron_expression import CronExpression
from apicron.triggers.cron_fields import (
    DAY_OF_MONTH,
    HOURS,
    MINUTES,
    MONTH,
    QUARTZ_DAY_OF_WEEK,
    SECONDS,
    YEAR,
    parse_value,
    parse_values,
    refuse,
)

FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")

_LAST_OFFSET = re.compile(r"L-([0-9]{1,9})")
_NEAREST_WEEKDAY = re.compile(r"([0-9]{1,9})W")
_NTH_WEEKDAY = re.compile(r"([0-9]{1,9}|[A-Z]+)#([0-9]{1,9})")
_LAST_WEEKDAY_OF = re.compile(r"([0-9]{1,9}|[A-Z]+)L")


def parse_quartz(source: str, parts: list[str]) -> CronExpression:
    second_text, minute_text, hour_text, dom_text, month_text, dow_text = parts[:6]
    year_text = parts[6] if len(parts) == 7 else "*"
    seconds = parse_values(SECONDS, second_text, "quartz")
    minutes = parse_values(MINUTES, minute_text, "quartz")
    hours = parse_values(HOURS, hour_text, "quartz")
    by_month = _day_of_month(dom_text)
    months = parse_values(MONTH, month_text, "quartz")
    by_week = _day_of_week(dow_text)
    years = None if year_text == "*" else parse_values(YEAR, year_text, "quartz")
    _check_one_question_mark(parts)
    return CronExpression(
        source=source,
        dialect="quartz",
        fields=(*parts[:6], year_text),
        seconds=seconds,
        minutes=minutes,
        hours=hours,
        months=months,
        years=years,
        day_tables=day_tables(by_month, by_week, either=False),
    )


def _check_one_question_mark(parts: list[str]) -> None:
    dom_text, dow_text = parts[3], parts[5]
    where = f"day-of-month '{dom_text}' and day-of-week '{dow_text}'"
    if dom_text == "?" and dow_text == "?":
        raise InvalidInput(
            f"{where}: only one of them may be '?'; the other must say which days, "
            "e.g. '*' for every day",
            field="cron_expression",
        )
    if dom_text != "?" and dow_text != "?":
        by_week = " ".join([*parts[:3], "?", *parts[4:]])
        by_month = " ".join([*parts[:5], "?", *parts[6:]])
        raise InvalidInput(
            f"{where}: exactly one of them must be '?' (Quartz does not combine the two day "
            f"fields); put '?' in the one you do not use, e.g. '{by_week}' or '{by_month}'",
            field="cron_expression",
        )


def _day_of_month(text: str) -> DayRule | None:
    if text == "?":
        return None
    upper = text.upper()
    if "?" in upper:
        raise refuse(DAY_OF_MONTH.name, text, "'?' must be the whole field")
    if "L" not in upper and "W" not in upper:
        return DaysOfMonth(frozenset(parse_values(DAY_OF_MONTH, text, "quartz")))
    if upper == "L":
        return LastDay(0)
    if upper == "LW":
        return LastWeekdayOfMonth()
    if match := _LAST_OFFSET.fullmatch(upper):
        offset = int(match[1])
        if not 1 <= offset <= 30:
            rule = f"the offset after 'L-' must be 1-30, got {offset}"
            raise refuse(DAY_OF_MONTH.name, text, rule)
        return LastDay(offset)
    if match := _NEAREST_WEEKDAY.fullmatch(upper):
        day = int(match[1])
        if not 1 <= day <= 31:
            raise refuse(DAY_OF_MONTH.name, text, f"the day before 'W' must be 1-31, got {day}")
        return NearestWeekday(day)
    if any(mark in upper for mark in ",/"):
        raise refuse(
            DAY_OF_MONTH.name,
            text,
            "'L' and 'W' cannot be combined with other values in a list or with a step; "
            "each must be the whole field",
        )
    raise refuse(
        DAY_OF_MONTH.name,
        text,
        "'L' and 'W' are only allowed as 'L', 'L-n' (n 1-30), 'nW' (n 1-31) or 'LW'",
    )


def _day_of_week(text: str) -> DayRule | None:
    if text == "?":
        return None
    upper = text.upper()
    if "?" in upper:
        raise refuse(QUARTZ_DAY_OF_WEEK.name, text, "'?' must be the whole field")
    if "#" in upper:
        return _nth_weekday(text, upper)
    # No day name contains an 'L', so any 'L' here is the special.
    if "L" in upper:
        return _last_weekday(text, upper)
    values = parse_values(QUARTZ_DAY_OF_WEEK, text, "quartz")
    return Weekdays(frozenset(_weekday(value) for value in values))


def _nth_weekday(text: str, upper: str) -> DayRule:
    if "," in upper:
        raise refuse(
            QUARTZ_DAY_OF_WEEK.name,
            text,
            "'#' cannot be combined with other values in a list; it must be the whole field",
        )
    match = _NTH_WEEKDAY.fullmatch(upper)
    if match is None:
        raise refuse(
            QUARTZ_DAY_OF_WEEK.name,
            text,
            "'#' must be written 'n#k' (weekday n, its k-th occurrence), e.g. '6#3' for the "
            "third Friday",
        )
    weekday = parse_value(QUARTZ_DAY_OF_WEEK, text, match[1], "quartz")
    nth = int(match[2])
    if not 1 <= nth <= 5:
        raise refuse(QUARTZ_DAY_OF_WEEK.name, text, "the occurrence after '#' must be 1-5")
    return NthWeekday(_weekday(weekday), nth)


def _last_weekday(text: str, upper: str) -> DayRule:
    if upper == "L":
        return Weekdays(frozenset((SATURDAY,)))
    if "," in upper:
        raise refuse(
            QUARTZ_DAY_OF_WEEK.name,
            text,
            "'L' cannot be combined with other values in a list; it must be the whole field",
        )
    match = _LAST_WEEKDAY_OF.fullmatch(upper)
    if match is None:
        raise refuse(
            QUARTZ_DAY_OF_WEEK.name,
            text,
            "'L' must stand alone (Saturday) or follow one weekday, e.g. '6L' for the last "
            "Friday of the month",
        )
    weekday = parse_value(QUARTZ_DAY_OF_WEEK, text, match[1], "quartz")
    return LastWeekdayOf(_weekday(weekday))


def _weekday(value: int) -> int:
    """Quartz 1 (Sunday) ... 7 (Saturday) to Python's Monday-based weekday."""
    return (value + 5) % 7
