"""Fire times of a cron expression in a time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apicron.triggers.cron_expression import CronExpression
from apicron.triggers.describe import describe_cron
from apicron.triggers.model import Fire, FireSearch
from apicron.triggers.zones import end_of_repeat, wall_to_utc

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class CronTrigger(FireSearch):
    expression: CronExpression
    zone: ZoneInfo

    def next_fire(self, t: datetime) -> Fire | None:
        """Search in wall time: wall-to-instant is monotonic, so the first matching wall time
        whose instant is after ``t`` is the answer, and a wall time that resolves to an
        instant already fired (a second gap time, a repeated hour) is never reached.
        """
        zone = self.zone
        try:
            local = t.astimezone(zone)
            if local.fold:
                start = end_of_repeat(local, zone)
            else:
                start = local.replace(tzinfo=None, microsecond=0) + _SECOND
            wall = self.expression.next_wall(start)
            if wall is None:
                return None
            return wall_to_utc(wall, zone), wall
        except (OverflowError, ValueError):
            # Only at the ends of the datetime range, where there is nothing to fire.
            return None

    @property
    def description(self) -> str:
        return describe_cron(self.expression, self.zone.key)
