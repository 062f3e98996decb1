"""Fire times every N minutes, hours, days, weeks or months from an anchor.

Occurrence k is ``effective_time + k * N units``; occurrence 0 is the anchor itself.
Minutes and hours step in absolute time. Days, weeks and months keep the anchor's wall-clock
time in the task zone, and months keep the anchor's day, clamped to each month's length.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from apicron.triggers.describe import describe_calendar
from apicron.triggers.model import Fire, FireSearch
from apicron.triggers.zones import wall_to_utc

UNITS: Final = ("MINUTE", "HOUR", "DAY", "WEEK", "MONTH")
_ABSOLUTE = {"MINUTE": timedelta(minutes=1), "HOUR": timedelta(hours=1)}
_WALL_DAYS = {"DAY": 1, "WEEK": 7}


@dataclass(frozen=True)
class CalendarTrigger(FireSearch):
    unit: str
    value: int
    effective_time: datetime
    zone: ZoneInfo
    anchor: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        object.__setattr__(self, "anchor", self.effective_time.astimezone(self.zone))

    def next_fire(self, t: datetime) -> Fire | None:
        anchor_wall = self.anchor.replace(tzinfo=None)
        if t < self.effective_time:
            return self.effective_time.astimezone(UTC), anchor_wall
        try:
            absolute = _ABSOLUTE.get(self.unit)
            if absolute is not None:
                at = self._absolute_after(t, absolute * self.value)
                return at, at.astimezone(self.zone).replace(tzinfo=None)
            # An estimate from elapsed time is off by at most a step or two (offsets change by
            # hours, steps are days or more); the loops below settle it exactly.
            k = max(1, self._estimate(t))
            while k > 1 and self._occurrence(k - 1)[0] > t:
                k -= 1
            fire = self._occurrence(k)
            while fire[0] <= t:
                k += 1
                fire = self._occurrence(k)
            return fire
        except (OverflowError, ValueError):
            # Past the last representable datetime there is nothing to fire.
            return None

    def _absolute_after(self, t: datetime, step: timedelta) -> datetime:
        steps = (t - self.effective_time) // step + 1
        return (self.effective_time + steps * step).astimezone(UTC)

    def _estimate(self, t: datetime) -> int:
        days = _WALL_DAYS.get(self.unit)
        if days is not None:
            return (t - self.effective_time) // timedelta(days=days * self.value)
        local = t.astimezone(self.zone)
        months = (local.year - self.anchor.year) * 12 + local.month - self.anchor.month
        return months // self.value

    def _occurrence(self, k: int) -> Fire:
        wall = self._wall(k)
        return wall_to_utc(wall, self.zone), wall

    def _wall(self, k: int) -> datetime:
        anchor = self.anchor.replace(tzinfo=None, fold=0)
        days = _WALL_DAYS.get(self.unit)
        if days is not None:
            return anchor + timedelta(days=days * self.value * k)
        year, month_index = divmod(anchor.year * 12 + anchor.month - 1 + self.value * k, 12)
        if year > datetime.max.year:
            raise OverflowError("past the last representable year")
        month = month_index + 1
        day = min(anchor.day, monthrange(year, month)[1])
        return anchor.replace(year=year, month=month, day=day)

    @property
    def description(self) -> str:
        return describe_calendar(self.unit, self.value, self.anchor, self.zone.key)
