"""A parsed cron expression and the search for its next matching wall-clock time."""

from __future__ import annotations

from bisect import bisect_left
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import datetime

from apicron.triggers.cron_days import DayRule
from apicron.triggers.cron_fields import Dialect

QUARTZ_LAST_YEAR = 2099
# The Gregorian calendar repeats every 400 years: a Unix expression that does not match
# within that window never will.
UNIX_WINDOW_YEARS = 400
_LAST_DATETIME_YEAR = 9999


@dataclass(frozen=True)
class CronExpression:
    """Immutable and hashable; the day tables make the search a handful of bisections."""

    source: str
    dialect: Dialect
    # The fields as written (Unix macros expanded), kept for descriptions.
    fields: tuple[str, ...]
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...] | None
    # The day fields as parsed (None: the field does not restrict) and how they combine:
    # ``either`` is the Vixie-cron OR of two restricting day fields, otherwise AND.
    by_month: DayRule | None
    by_week: DayRule | None
    either: bool
    # Debian cron's DST rule (see ``cron_trigger``): True when a seconds, minutes or hours
    # field is a wildcard or whole-range step, so the expression runs on absolute time.
    absolute_time: bool
    # Things a reader may have misread, e.g. Quartz day-of-week numbers taken the Unix way.
    warnings: tuple[str, ...]
    day_tables: tuple[tuple[int, ...], ...] = field(repr=False, compare=False)

    def next_wall(self, start: datetime) -> datetime | None:
        """The first matching naive wall-clock time at or after ``start``'s fields (whole
        seconds; its tzinfo and fold are not looked at)."""
        year, month, day = start.year, start.month, start.day
        hour, minute, second = start.hour, start.minute, start.second
        years = self.years
        if self.dialect == "quartz":
            last_year = QUARTZ_LAST_YEAR if years is None else years[-1]
        else:
            last_year = min(year + UNIX_WINDOW_YEARS, _LAST_DATETIME_YEAR)
        months, hours, minutes, seconds = self.months, self.hours, self.minutes, self.seconds
        tables = self.day_tables
        # Each pass either returns or moves to the earliest candidate the failing field allows,
        # resetting the smaller fields; an overflow (day 32, hour 24...) fails the next bisect.
        while year <= last_year:
            if years is not None:
                i = bisect_left(years, year)
                if i == len(years):
                    return None
                if years[i] != year:
                    year, month, day, hour, minute, second = years[i], 1, 1, 0, 0, 0
            i = bisect_left(months, month)
            if i == len(months):
                year, month, day, hour, minute, second = year + 1, 1, 1, 0, 0, 0
                continue
            if months[i] != month:
                month, day, hour, minute, second = months[i], 1, 0, 0, 0
            first_weekday, length = monthrange(year, month)
            days = tables[first_weekday * 4 + length - 28]
            i = bisect_left(days, day)
            if i == len(days):
                month, day, hour, minute, second = month + 1, 1, 0, 0, 0
                continue
            if days[i] != day:
                day, hour, minute, second = days[i], 0, 0, 0
            i = bisect_left(hours, hour)
            if i == len(hours):
                day, hour, minute, second = day + 1, 0, 0, 0
                continue
            if hours[i] != hour:
                hour, minute, second = hours[i], 0, 0
            i = bisect_left(minutes, minute)
            if i == len(minutes):
                hour, minute, second = hour + 1, 0, 0
                continue
            if minutes[i] != minute:
                minute, second = minutes[i], 0
            i = bisect_left(seconds, second)
            if i == len(seconds):
                minute, second = minute + 1, 0
                continue
            return datetime(year, month, day, hour, minute, seconds[i])
        return None
