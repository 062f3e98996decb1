"""Fire times every N minutes, hours, days, weeks or months from an anchor.

Occurrence k is ``effective_time + k * N units``; occurrence 0 is the anchor itself.
Minutes and hours step in absolute time. Days, weeks and months keep the anchor's wall-clock
time in the task zone (the fixed-time DST rule: a repeated wall time fires at its first
pass, a skipped one at the jump), and months keep the anchor's day, clamped to each
month's length. The anchor's wall time is the one the user typed: an effective time typed
into a spring-forward gap fires first at the jump, then every day at the typed time.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from apicron.domain.vocabulary import IntervalUnit, choices
from apicron.triggers.describe import describe_calendar
from apicron.triggers.model import Fire, FireSearch
from apicron.triggers.zones import wall_instants, wall_to_utc

UNITS: Final = choices(IntervalUnit)
_ABSOLUTE = {"MINUTE": timedelta(minutes=1), "HOUR": timedelta(hours=1)}
_WALL_DAYS = {"DAY": 1, "WEEK": 7}


@dataclass(frozen=True)
class CalendarTrigger(FireSearch):
    """``effective_wall``: the naive wall time the user gave for ``effective_time``, when
    it was given without an offset; it must resolve to ``effective_time``."""

    unit: str
    value: int
    effective_time: datetime
    zone: ZoneInfo
    effective_wall: datetime | None = None
    anchor: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        anchor = self.effective_time.astimezone(self.zone)
        wall = self.effective_wall
        if wall is not None:
            if wall.tzinfo is not None or wall_to_utc(wall, self.zone) != self.effective_time:
                raise ValueError(f"{wall} is not effective_time's wall time in {self.zone}")
            if self.unit not in _ABSOLUTE and not wall_instants(wall, self.zone):
                # Typed into a gap: the anchor keeps the typed wall time; occurrence 0 still
                # fires at effective_time, the jump.
                anchor = wall.replace(fold=0)
        object.__setattr__(self, "anchor", anchor)

    def next_fire(self, t: datetime) -> Fire | None:
        anchor_wall = self.anchor.replace(tzinfo=None)
        if t < self.effective_time:
            return Fire(self.effective_time.astimezone(UTC), anchor_wall)
        try:
            absolute = _ABSOLUTE.get(self.unit)
            if absolute is not None:
                at = self._absolute_after(t, absolute * self.value)
                return Fire(at, at.astimezone(self.zone).replace(tzinfo=None))
            # An estimate from elapsed time is off by at most a step or two (offsets change by
            # hours, steps are days or more); the loops below settle it exactly.
            k = max(1, self._estimate(t))
            while k > 1 and self._occurrence(k - 1).at > t:
                k -= 1
            fire = self._occurrence(k)
            while fire.at <= t:
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
        return Fire(wall_to_utc(wall, self.zone), wall)

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

    @property
    def absolute_time(self) -> bool:
        return self.unit in _ABSOLUTE

    @property
    def warnings(self) -> tuple[str, ...]:
        return ()
