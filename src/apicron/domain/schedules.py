"""A task's schedule, built from its own fields (behaviour next to the data)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from apicron.domain.models import StoredTask, TaskFields
from apicron.triggers import Schedule, build_trigger


def schedule_of(
    task: StoredTask | TaskFields, *, effective_wall: datetime | None = None
) -> Schedule:
    """The trigger of ``task`` as a :class:`~apicron.triggers.Schedule` in its zone,
    bounded by its effective and end times; a stored task's ``effective_wall`` (or the one
    given) keeps a CALENDAR interval at the wall time typed.

    Raises InvalidInput when the trigger fields do not make a schedule (e.g. a zone gone
    from tzdata since the task was saved).
    """
    assert task.effective_time is not None and task.timezone is not None
    if effective_wall is None and isinstance(task, StoredTask):
        effective_wall = task.effective_wall
    return _cached_build(
        trigger_type=task.trigger_type,
        cron_expression=task.cron_expression,
        interval_unit=task.interval_unit,
        interval_value=task.interval_value,
        effective_time=task.effective_time,
        timezone=task.timezone,
        end_time=task.end_time,
        effective_wall=effective_wall,
        run_at=task.run_at,
    )


# The engine builds a task's schedule at every claim: for an every-second task, every
# second. Building one validates it (its first fire is looked for), ~60 µs, always with
# the same answer for the same fields (a Schedule is frozen); an error is raised, never
# cached.
_cached_build = lru_cache(maxsize=8192)(build_trigger)


def occurrences(
    schedule: Schedule, first: datetime, until: datetime, limit: int
) -> tuple[list[datetime], datetime | None]:
    """Fire times from ``first`` (itself a fire time) up to ``until`` inclusive, at most
    ``limit``; and the first fire time after the last one returned (None: no more)."""
    times: list[datetime] = []
    current: datetime | None = first
    while current is not None and current <= until and len(times) < limit:
        times.append(current)
        current = schedule.next_after(current)
    return times, current


def latest_occurrences(
    schedule: Schedule, first: datetime, until: datetime, limit: int
) -> list[datetime]:
    """The last ``limit`` fire times in [``first``, ``until``], oldest first, without
    walking a long downtime: the window looked at grows until it holds enough."""
    window = timedelta(seconds=max(limit, 60))
    while True:
        start = max(first, until - window)
        begin = schedule.first_at_or_after(start)
        if begin is None or begin > until:
            times: list[datetime] = []
        else:
            times, _ = occurrences(schedule, begin, until, 10 * limit + 1)
        if len(times) >= limit or start == first:
            return times[-limit:]
        window *= 4
