"""The Quartz dialect: ``sec min hour day-of-month month day-of-week [year]``.

Day-of-week runs 1-7 from Sunday, exactly one day field is ``?``, and the day fields
take the specials ``L``, ``L-n``, ``nW``, ``LW``, ``nL`` and ``n#k``.

Quartz's day numbers are one ahead of Unix's (1 is Sunday here, Monday there), the
commonest misreading of a cron expression: a day-of-week with numbers gets a warning that
spells both readings in names, and no hint ever rewrites numbers into other numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    DAY_NAMES,
    DAY_OF_MONTH,
    HOURS,
    MINUTES,
    MONTH,
    QUARTZ_DAY_OF_WEEK,
    SECONDS,
    UNIX_DAY_OF_WEEK,
    YEAR,
    matches_every_value,
    parse_value,
    parse_values,
    refuse,
)
from apicron.triggers.describe import describe_week_rule

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
    _check_one_question_mark(parts, by_week)
    misread = None if by_week is None else _day_numbers_misread(dow_text, by_week)
    return CronExpression(
        source=source,
        dialect="quartz",
        fields=(*parts[:6], year_text),
        seconds=seconds,
        minutes=minutes,
        hours=hours,
        months=months,
        years=years,
        by_month=by_month,
        by_week=by_week,
        either=False,
        # Debian cron's rule (see cron_trigger), with Quartz's seconds field counted too.
        absolute_time=any(
            matches_every_value(spec, text)
            for spec, text in ((SECONDS, second_text), (MINUTES, minute_text), (HOURS, hour_text))
        ),
        warnings=() if misread is None else (misread.warning,),
        day_tables=day_tables(by_month, by_week, either=False),
    )


def _check_one_question_mark(parts: list[str], by_week: DayRule | None) -> None:
    dom_text, dow_text = parts[3], parts[5]
    where = f"day-of-month '{dom_text}' and day-of-week '{dow_text}'"
    if dom_text == "?" and dow_text == "?":
        raise InvalidInput(
            f"{where}: only one of them may be '?'; the other must say which days, "
            "e.g. '*' for every day",
            field="cron_expression",
        )
    if dom_text != "?" and dow_text != "?":
        assert by_week is not None
        misread = _day_numbers_misread(dow_text, by_week)
        week_text = dow_text if misread is None else misread.as_written
        by_week_form = " ".join([*parts[:3], "?", parts[4], week_text, *parts[6:]])
        by_month = " ".join([*parts[:5], "?", *parts[6:]])
        rule = (
            f"{where}: exactly one of them must be '?' (Quartz does not combine the two day "
            f"fields); put '?' in the one you do not use, e.g. '{by_week_form}' or "
            f"'{by_month}'"
        )
        if misread is not None:
            unix_form = " ".join([*parts[:3], "?", parts[4], misread.unix_names, *parts[6:]])
            rule += f". {misread.reading}; for {misread.unix_days} write '{unix_form}'"
        raise InvalidInput(rule, field="cron_expression")


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


_DAY_NUMBER = re.compile(r"(?<![/#0-9])[0-9]")


@dataclass(frozen=True)
class _Misread:
    """A Quartz day-of-week with numbers that picks other days when the numbers are read
    the Unix way (0 or 7 = Sunday, 1 = Monday); both readings spelled in names."""

    text: str
    quartz_days: str
    as_written: str
    unix_names: str
    unix_days: str

    @property
    def reading(self) -> str:
        return f"In Quartz 1 = Sunday: {self.text} is {self.quartz_days}"

    @property
    def warning(self) -> str:
        return (
            f"day-of-week '{self.text}': in Quartz 1 = Sunday: {self.text} is "
            f"{self.quartz_days}. Write names to be sure: '{self.as_written}' as written, "
            f"or '{self.unix_names}' for {self.unix_days}"
        )


def _day_numbers_misread(text: str, quartz: DayRule) -> _Misread | None:
    """Set when ``text`` has day numbers (not just a step or an occurrence after '#') that
    pick other days read the Unix way; None when names are used or both readings agree."""
    if not _DAY_NUMBER.search(text):
        return None
    try:
        unix = _unix_reading(text.upper())
    except InvalidInput:
        return None
    if day_tables(None, quartz, either=False) == day_tables(None, unix, either=False):
        return None
    return _Misread(
        text=text,
        quartz_days=describe_week_rule(quartz),
        as_written=_names(quartz),
        unix_names=_names(unix),
        unix_days=describe_week_rule(unix),
    )


def _unix_reading(upper: str) -> DayRule:
    if match := _NTH_WEEKDAY.fullmatch(upper):
        return NthWeekday(_unix_weekday(match[1]), int(match[2]))
    if match := _LAST_WEEKDAY_OF.fullmatch(upper):
        return LastWeekdayOf(_unix_weekday(match[1]))
    values = parse_values(UNIX_DAY_OF_WEEK, upper, "unix")
    return Weekdays(frozenset((value + 6) % 7 for value in values))


def _unix_weekday(token: str) -> int:
    return (parse_value(UNIX_DAY_OF_WEEK, token, token, "unix") + 6) % 7


def _names(rule: DayRule) -> str:
    """A day-of-week rule written in Quartz day names, which read the same in both dialects."""
    if isinstance(rule, NthWeekday):
        return f"{_name(rule.weekday)}#{rule.nth}"
    if isinstance(rule, LastWeekdayOf):
        return f"{_name(rule.weekday)}L"
    assert isinstance(rule, Weekdays)
    # Runs in Quartz order (Sunday first), so a range never runs backwards.
    runs: list[list[int]] = []
    for weekday in sorted(rule.weekdays, key=lambda weekday: (weekday + 1) % 7):
        if runs and (runs[-1][-1] + 1) % 7 == weekday:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    written: list[str] = []
    for run in runs:
        if len(run) >= 3:
            written.append(f"{_name(run[0])}-{_name(run[-1])}")
        else:
            written.extend(_name(weekday) for weekday in run)
    return ",".join(written)



def _name(weekday: int) -> str:
    return DAY_NAMES[(weekday + 1) % 7]
