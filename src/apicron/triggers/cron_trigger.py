"""Fire times of a cron expression in a time zone, by Debian cron's DST rule.

Debian cron (cron.c, ``find_jobs``: jobs with ``MIN_STAR`` or ``HR_STAR`` are "wildcard"
jobs), followed by cronsim and by APScheduler 4, and adopted by apicron for both dialects:

- an expression with a wildcard or whole-range step in its seconds, minutes or hours
  (``*``, ``*/15``, ``0/15``, ``@hourly``) runs on **absolute time**: it fires at every
  instant whose wall time matches, so both passes of a repeated hour fire and a gap simply
  has no occurrences to catch up;
- an expression that names fixed times fires a repeated wall time once, at its first pass,
  and a wall time skipped by a spring-forward jump once, at the jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apicron.triggers.cron_expression import CronExpression
from apicron.triggers.describe import describe_cron
from apicron.triggers.model import Fire, FireSearch
from apicron.triggers.zones import end_of_repeat, next_shift, wall_to_utc

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class CronTrigger(FireSearch):
    expression: CronExpression
    zone: ZoneInfo

    def next_fire(self, t: datetime) -> Fire | None:
        try:
            if self.expression.absolute_time:
                return self._next_absolute(t)
            return self._next_fixed(t)
        except (OverflowError, ValueError):
            # Only at the ends of the datetime range, where there is nothing to fire.
            return None

    def _next_fixed(self, t: datetime) -> Fire | None:
        """Search in wall time: by the fixed-time rule wall-to-instant is monotonic, so the
        first matching wall time whose instant is after ``t`` is the answer, and a wall time
        that resolves to an instant already fired (a second gap time, a repeated hour) is
        never reached.
        """
        local = t.astimezone(self.zone)
        if local.fold:
            start = end_of_repeat(local, self.zone)
        else:
            start = local.replace(tzinfo=None, microsecond=0) + _SECOND
        wall = self.expression.next_wall(start)
        if wall is None:
            return None
        return Fire(wall_to_utc(wall, self.zone), wall)

    def _next_absolute(self, t: datetime) -> Fire | None:
        """The first instant after ``t`` whose wall time matches.

        Between two shifts of the zone's offset, wall time is instant plus one offset, so the
        search runs one offset period at a time: the first matching wall time at or after
        the period's start, if its instant falls before the period ends; else on from the
        next shift. A gap's wall times belong to no period and a repeated hour's to two.
        """
        zone = self.zone
        # The first whole second after t.
        start = t + (_SECOND - timedelta(microseconds=t.microsecond) if t.microsecond else _SECOND)
        skipped: tuple[datetime, datetime] | None = None
        while True:
            local = start.astimezone(zone)
            offset = local.utcoffset()
            assert offset is not None
            found = self.expression.next_wall(local)
            if found is None:
                return None
            at = (found - offset).replace(tzinfo=UTC)
            shift = next_shift(zone, start)
            if shift is None:
                # No shift before the end of next year: the search may go on from there.
                if start.year + 2 > MAXYEAR:
                    return Fire(at, found, skipped)
                end = datetime(start.year + 2, 1, 1, tzinfo=UTC)
                if at < end:
                    return Fire(at, found, skipped)
                start, skipped = end, None
                continue
            if at < shift.at:
                return Fire(at, found, skipped)
            # A match the clock jumped over: nothing to catch up, but the fire after it says so.
            in_gap = shift.is_gap and found < shift.wall_after
            skipped = (shift.wall_before, shift.wall_after) if in_gap else None
            start = shift.at

    @property
    def description(self) -> str:
        return describe_cron(self.expression, self.zone.key)

    @property
    def absolute_time(self) -> bool:
        return self.expression.absolute_time

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.expression.warnings
