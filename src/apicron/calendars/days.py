"""Which days a task's calendars exclude, and which entry excludes each one.

Days are dates of the task's zone. On one calendar the first rule that applies wins:
``include_dates``, then ``exclude_dates``, then the holiday library's make-up working days
(included), then its holidays and ``exclude_weekdays`` (excluded). Several calendars: a day
is excluded when any of them excludes it (the first one in the task's order is named).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from apicron.calendars.holiday_source import year_of
from apicron.domain.calendars import WEEKDAYS, Calendar, parse_entry


@dataclass(frozen=True)
class Exclusion:
    """Why a day is excluded: the calendar's name and the entry, in words
    (``Christmas Day (DE)``, ``exclude_dates 2027-12-24..2027-12-31``,
    ``exclude_weekdays SAT``)."""

    calendar: str
    entry: str

    @property
    def text(self) -> str:
        return f"excluded by calendar {self.calendar}: {self.entry}"


class _CalendarRules:
    def __init__(self, calendar: Calendar):
        self.name = calendar.name
        self.include = [parse_entry(e) for e in calendar.include_dates]
        self.exclude = [(*parse_entry(e), e) for e in calendar.exclude_dates]
        self.weekdays = {WEEKDAYS.index(d) for d in calendar.exclude_weekdays}
        source = calendar.holidays
        self.country = None if source is None else source.country
        self.subdivision = None if source is None else source.subdivision

    def exclusion(self, day: date) -> str | None:
        if any(first <= day <= last for first, last in self.include):
            return None
        for first, last, text in self.exclude:
            if first <= day <= last:
                return f"exclude_dates {text}"
        if self.country is not None:
            year = year_of(self.country, self.subdivision, day.year)
            if day in year.workdays:
                return None
            name = year.names.get(day)
            if name is not None:
                where = self.country + (f"-{self.subdivision}" if self.subdivision else "")
                return f"{name} ({where})"
        if day.weekday() in self.weekdays:
            return f"exclude_weekdays {WEEKDAYS[day.weekday()]}"
        return None


class CalendarDays:
    """The days a list of calendars excludes; answers are cached (one object per planning
    or preview, so a calendar edited since is read again next time)."""

    def __init__(self, calendars: Sequence[Calendar]):
        self._rules = [_CalendarRules(c) for c in calendars]
        self._cache: dict[date, Exclusion | None] = {}

    @property
    def names(self) -> list[str]:
        return [rules.name for rules in self._rules]

    def exclusion(self, day: date) -> Exclusion | None:
        """Why ``day`` is excluded, or None when the task may fire on it."""
        try:
            return self._cache[day]
        except KeyError:
            pass
        found = None
        for rules in self._rules:
            entry = rules.exclusion(day)
            if entry is not None:
                found = Exclusion(rules.name, entry)
                break
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[day] = found
        return found

    def included(self, day: date) -> bool:
        return self.exclusion(day) is None
