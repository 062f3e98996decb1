"""Helpers for the trigger tests, including a reference matcher written independently of
``apicron.triggers``: it checks a wall time field by field, slowly and plainly, so the
fast evaluator can be compared against it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apicron.triggers import Schedule, build_trigger

MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
QUARTZ_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
UNIX_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
START = datetime(2026, 1, 1, tzinfo=UTC)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware UTC datetime: ``at(2026, 1, 16, 12)``."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def cron(
    expression: str,
    zone: str = "UTC",
    effective: datetime = START,
    end: datetime | None = None,
) -> Schedule:
    return build_trigger(
        trigger_type="CRON",
        cron_expression=expression,
        interval_unit=None,
        interval_value=None,
        effective_time=effective,
        timezone=zone,
        end_time=end,
    )


def every(
    value: int | None,
    unit: str,
    effective: datetime,
    zone: str = "UTC",
    end: datetime | None = None,
) -> Schedule:
    return build_trigger(
        trigger_type="CALENDAR",
        cron_expression=None,
        interval_unit=unit,
        interval_value=value,
        effective_time=effective,
        timezone=zone,
        end_time=end,
    )


def times(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    return [fire.at for fire in schedule.preview(after, count)]


def walls(schedule: Schedule, after: datetime, count: int) -> list[str]:
    """Local fire times as 'YYYY-MM-DD HH:MM:SS+HH:MM' strings, easy to read in asserts."""
    return [fire.local.isoformat(" ") for fire in schedule.preview(after, count)]


def _expand(text: str, low: int, high: int, names: dict[str, int], star_high: int) -> set[int]:
    values: set[int] = set()
    for item in text.upper().split(","):
        body, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if body in ("*", "?"):
            first, last = low, star_high
        elif "-" in body:
            first_text, last_text = body.split("-")
            first = names[first_text] if first_text in names else int(first_text)
            last = names[last_text] if last_text in names else int(last_text)
        else:
            first = names[body] if body in names else int(body)
            last = star_high if step_text else first
        assert low <= first <= last <= high, item
        values.update(range(first, last + 1, step))
    return values


def _expand_week(text: str, low: int, high: int, names: dict[str, int], star_high: int) -> set[int]:
    """Day-of-week values; 'a/s' runs to the field's high end (Unix 7 = Sunday)."""
    values: set[int] = set()
    for item in text.upper().split(","):
        body, slash, _ = item.partition("/")
        if slash and body not in ("*", "?") and "-" not in body:
            item = f"{body}-{high}{item[len(body):]}"
        values |= _expand(item, low, high, names, star_high)
    return values


def _every_value(text: str) -> bool:
    """A field written as a wildcard or a whole-range step: '*', '*/s' or '0/s' first."""
    first = text.split(",")[0]
    return first.startswith("*") or (first.partition("/")[1] == "/" and first.split("/")[0] == "0")


class Reference:
    """Which wall times an expression selects, decided one field at a time."""

    def __init__(self, expression: str) -> None:
        self.parts = expression.split()
        self.unix = len(self.parts) == 5
        if self.unix:
            minute, hour, self.dom, month, self.dow = self.parts
            second, year = "0", "*"
        else:
            second, minute, hour, self.dom, month, self.dow = self.parts[:6]
            year = self.parts[6] if len(self.parts) == 7 else "*"
        # Debian cron's DST rule, extended to Quartz's seconds: a wildcard or whole-range
        # step in a time field runs the expression on absolute time.
        self.absolute_time = any(_every_value(text) for text in (second, minute, hour))
        self.seconds = _expand(second, 0, 59, {}, 59)
        self.minutes = _expand(minute, 0, 59, {}, 59)
        self.hours = _expand(hour, 0, 23, {}, 23)
        self.months = _expand(month, 1, 12, MONTH_NAMES, 12)
        self.years = None if year == "*" else _expand(year, 1970, 2099, {}, 2099)

    def times_of_day(self) -> list[time]:
        return sorted(time(h, m, s) for h in self.hours for m in self.minutes for s in self.seconds)

    def matches(self, wall: datetime) -> bool:
        return (
            wall.second in self.seconds
            and wall.minute in self.minutes
            and wall.hour in self.hours
            and self.matches_day(wall.date())
        )

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.unix:
            return self._unix_day(day)
        if self.dom != "?":
            return _quartz_day_of_month(self.dom.upper(), day)
        return _quartz_day_of_week(self.dow.upper(), day)

    def _unix_day(self, day: date) -> bool:
        by_month = day.day in _expand(self.dom, 1, 31, {}, 31)
        weekdays = {v % 7 for v in _expand_week(self.dow, 0, 7, UNIX_DAYS, 6)}
        by_week = day.isoweekday() % 7 in weekdays
        if self.dom.startswith("*") or self.dow.startswith("*"):
            return by_month and by_week
        return by_month or by_week


def _month_length(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _is_business_day(day: date) -> bool:
    return day.isoweekday() <= 5


def _quartz_day_of_month(dom: str, day: date) -> bool:
    length = _month_length(day)
    if dom == "L":
        return day.day == length
    if dom.startswith("L-"):
        return day.day == length - int(dom[2:])
    if dom == "LW":
        last = day.replace(day=length)
        while not _is_business_day(last):
            last -= timedelta(days=1)
        return day == last
    if dom.endswith("W"):
        wanted = int(dom[:-1])
        if wanted > length:
            return False
        business = [d for d in range(1, length + 1) if _is_business_day(day.replace(day=d))]
        return day.day == min(business, key=lambda d: abs(d - wanted))
    return day.day in _expand(dom, 1, 31, {}, 31)


def _quartz_day_of_week(dow: str, day: date) -> bool:
    quartz_weekday = day.isoweekday() % 7 + 1
    length = _month_length(day)
    if dow == "L":
        return quartz_weekday == 7
    if "#" in dow:
        weekday, nth = dow.split("#")
        wanted = QUARTZ_DAYS.get(weekday) or int(weekday)
        return quartz_weekday == wanted and (day.day - 1) // 7 + 1 == int(nth)
    if dow.endswith("L"):
        weekday = dow[:-1]
        wanted = QUARTZ_DAYS.get(weekday) or int(weekday)
        return quartz_weekday == wanted and day.day + 7 > length
    return quartz_weekday in _expand_week(dow, 1, 7, QUARTZ_DAYS, 7)


def instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every instant whose wall time is ``wall``: none in a gap, two in a repeated hour."""
    found = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall and instant not in found:
            found.append(instant)
    return found


def resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a wall time fires at, by the spec's words rather than the implementation's:
    an existing wall time at its first occurrence, a skipped one at the instant the clock
    jumped over it.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    minute = first.replace(second=0) - timedelta(hours=3)
    while minute.astimezone(zone).replace(tzinfo=None) <= wall:
        minute += timedelta(minutes=1)
    return minute


@lru_cache(maxsize=64)
def transitions(zone_name: str, year: int) -> tuple[datetime, ...]:
    """The instants in ``year`` at which ``zone_name`` changes its UTC offset."""
    zone = ZoneInfo(zone_name)
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    while moment.year == year:
        following = moment + timedelta(minutes=30)
        if following.astimezone(zone).utcoffset() != offset:
            found.append(following)
            offset = following.astimezone(zone).utcoffset()
        moment = following
    return tuple(found)


def matching_walls(expression: str, first_day: date, days: int) -> Iterator[datetime]:
    reference = Reference(expression)
    clock = reference.times_of_day()
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if reference.matches_day(day):
            for moment in clock:
                yield datetime.combine(day, moment)


def expected_fires(expression: str, zone: ZoneInfo, first_day: date, days: int) -> list[datetime]:
    """Every fire instant from ``first_day`` on for ``days`` days, duplicates removed: on
    absolute time every instant whose wall time matches, else each wall time resolved."""
    walls = matching_walls(expression, first_day, days)
    if Reference(expression).absolute_time:
        return sorted({instant for wall in walls for instant in instants(wall, zone)})
    return sorted({resolve(wall, zone) for wall in walls})
