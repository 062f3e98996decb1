"""Whether a task's times leave it something to fire: the rules a task is checked by when
it is saved (create, update) and started, in one place, so that the services and
``apicron apply --dry-run`` (which runs on the client side) refuse the same tasks with the
same message.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from apicron.domain import rules
from apicron.domain.errors import InvalidInput
from apicron.domain.models import TaskFields
from apicron.domain.schedules import schedule_of


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC, whole seconds, ``Z``: how these messages write times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_run_at_ahead(trigger_type: str, run_at: datetime | None, now: datetime) -> None:
    """Issue 18: a one-off task saved or started with ``run_at`` in the past is refused
    (InvalidInput naming ``run_at``); ``run_at`` in whole seconds, ``now`` the clock."""
    if trigger_type == "AT" and run_at is not None and run_at < rules.whole_seconds(now):
        raise InvalidInput(
            f"is in the past ({rfc3339(run_at)}, now {rfc3339(now)}); a one-off task fires "
            "once, at run_at: set a later time",
            field="run_at",
        )


def check_fires_again(fields: TaskFields, now: datetime, wall: datetime | None) -> None:
    """A task must have a fire time left, or it is refused when saved rather than at Start.

    ``fields`` normalised (times in UTC, zone and effective time filled), ``wall`` the
    wall time a CALENDAR task's effective time was typed as (or None). Raises InvalidInput
    naming ``run_at``, ``end_time``, ``cron_expression`` or ``effective_time``.

    Issue 13 §4: a task whose end_time had passed was accepted and shown a Start button,
    and only ``start`` said it had nothing left to fire. Issue 18: a one-off task whose
    run_at has passed is refused the same way, naming run_at (not recorded MISSED: nothing
    was ever scheduled).
    """
    check_run_at_ahead(fields.trigger_type, fields.run_at, now)
    schedule = schedule_of(fields, effective_wall=wall)
    end = fields.end_time
    if end is not None and end <= now:
        raise InvalidInput(
            f"is in the past ({rfc3339(end)}); a task never fires after its end_time: "
            "set a later one, or none",
            field="end_time",
        )
    if schedule.first_at_or_after(now) is not None:
        return
    unbounded = replace(schedule, end_time=None).first_at_or_after(now)
    if end is not None and unbounded is not None:
        raise InvalidInput(
            f"leaves no fire time from now on: the next one would be {rfc3339(unbounded)}, "
            f"after end_time {rfc3339(end)}",
            field="end_time",
        )
    field = "cron_expression" if fields.trigger_type == "CRON" else "effective_time"
    raise InvalidInput(
        f"never fires again after now ({rfc3339(now)}); check the year, day and month fields",
        field=field,
    )
