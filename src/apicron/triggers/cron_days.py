"""Which days of a month a cron expression's two day fields select.

A month's matching days depend only on the weekday of its 1st and its length, so an
expression needs at most 7 x 4 day tables, all built when it is parsed.
Weekdays here are Python's: Monday 0 ... Sunday 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SATURDAY = 5
SUNDAY = 6
MONTH_LENGTHS = (28, 29, 30, 31)


def _weekday(first_weekday: int, day: int) -> int:
    return (first_weekday + day - 1) % 7


class DayRule(Protocol):
    def days(self, first_weekday: int, length: int) -> frozenset[int]: ...


@dataclass(frozen=True)
class DaysOfMonth:
    values: frozenset[int]

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        return frozenset(day for day in self.values if day <= length)


@dataclass(frozen=True)
class LastDay:
    """``L`` (offset 0) or ``L-n``: n days before the month's last day."""

    offset: int

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        day = length - self.offset
        return frozenset((day,)) if day >= 1 else frozenset()


@dataclass(frozen=True)
class NearestWeekday:
    """``nW``: the weekday nearest day n, never leaving the month (Quartz rule)."""

    day: int

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        day = self.day
        if day > length:
            return frozenset()
        weekday = _weekday(first_weekday, day)
        if weekday == SATURDAY:
            day = 3 if day == 1 else day - 1
        elif weekday == SUNDAY:
            day = day - 2 if day == length else day + 1
        return frozenset((day,))


@dataclass(frozen=True)
class LastWeekdayOfMonth:
    """``LW``."""

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        weekday = _weekday(first_weekday, length)
        if weekday == SATURDAY:
            return frozenset((length - 1,))
        if weekday == SUNDAY:
            return frozenset((length - 2,))
        return frozenset((length,))


@dataclass(frozen=True)
class Weekdays:
    weekdays: frozenset[int]

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        return frozenset(
            day for day in range(1, length + 1) if _weekday(first_weekday, day) in self.weekdays
        )


@dataclass(frozen=True)
class LastWeekdayOf:
    """``nL`` in day-of-week: the month's last such weekday."""

    weekday: int

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        return frozenset((length - (_weekday(first_weekday, length) - self.weekday) % 7,))


@dataclass(frozen=True)
class NthWeekday:
    """``n#k``: the k-th such weekday; a month without one does not fire."""

    weekday: int
    nth: int

    def days(self, first_weekday: int, length: int) -> frozenset[int]:
        day = 1 + (self.weekday - first_weekday) % 7 + 7 * (self.nth - 1)
        return frozenset((day,)) if day <= length else frozenset()


def day_tables(
    by_month: DayRule | None, by_week: DayRule | None, *, either: bool
) -> tuple[tuple[int, ...], ...]:
    """Sorted matching days, indexed ``first_weekday * 4 + length - 28``.

    ``None`` means the field does not restrict. ``either`` is the Vixie-cron rule: when
    both fields restrict, a day matches if either does.
    """
    tables = []
    for first_weekday in range(7):
        for length in MONTH_LENGTHS:
            every_day = frozenset(range(1, length + 1))
            month_days = every_day if by_month is None else by_month.days(first_weekday, length)
            week_days = every_day if by_week is None else by_week.days(first_weekday, length)
            chosen = month_days | week_days if either else month_days & week_days
            tables.append(tuple(sorted(chosen)))
    return tuple(tables)
