"""Which occurrences of a task run, which are missed, and when it fires next.

Pure: no I/O, no clock of its own. DESIGN.md's misfire rule: an occurrence found less
than the grace period after its time runs late; when the task's next fire time is further
behind than that (the process was down or overloaded), everything due up to now is a
misfire: RUN_ONCE runs one execution for the latest and records the rest MISSED, SKIP
records them all MISSED. Never a burst, and every occurrence leaves a row (bounded by
``max_missed``, the history kept per task: older rows would be pruned at once anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apicron.domain.schedules import latest_occurrences, occurrences
from apicron.triggers import Schedule


@dataclass
class Plan:
    run: list[datetime] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)
    next_fire: datetime | None = None
    late: datetime | None = None
    """The missed occurrence RUN_ONCE runs late (also in ``run``), if any."""


def plan_task(
    schedule: Schedule,
    next_fire: datetime,
    *,
    now: datetime,
    horizon: datetime,
    grace: timedelta,
    misfire_policy: str,
    max_missed: int,
    max_run: int = 10_000,
) -> Plan:
    plan = Plan()
    if next_fire < now - grace:
        missed = latest_occurrences(schedule, next_fire, now, max_missed + 1)
        if misfire_policy == "RUN_ONCE" and missed:
            plan.late = missed.pop()
            plan.run.append(plan.late)
        plan.missed = missed[-max_missed:]
        following = schedule.next_after(now)
        if following is None or following > horizon:
            plan.next_fire = following
            return plan
        next_fire = following
    times, plan.next_fire = occurrences(schedule, next_fire, horizon, max_run)
    plan.run.extend(times)
    return plan
