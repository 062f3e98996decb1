"""The one-off trigger (issue 18, ``trigger_type`` AT): one fire, at ``run_at``.

Like EventBridge Scheduler's ``at()`` expression. The instant is absolute: a ``run_at``
typed without an offset was turned into one in the task's zone before it got here
(:func:`apicron.triggers.zones.wall_to_utc`: a skipped wall time fires at the jump, a
repeated one at its first pass), so there is no DST rule left to apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apicron.triggers.describe import format_wall
from apicron.triggers.model import Fire


@dataclass(frozen=True)
class AtTrigger:
    run_at: datetime
    """Aware UTC."""
    zone: ZoneInfo

    def next_fire(self, t: datetime) -> Fire | None:
        if self.run_at <= t:
            return None
        return Fire(self.run_at, self.run_at.astimezone(self.zone).replace(tzinfo=None))

    @property
    def description(self) -> str:
        local = self.run_at.astimezone(self.zone)
        return f"once, at {format_wall(local)} ({self.zone.key})"

    @property
    def absolute_time(self) -> bool:
        return True

    @property
    def warnings(self) -> tuple[str, ...]:
        return ()
