"""Occurrences due together: only the latest runs, each earlier one is recorded MISSED.

When the engine finds several due occurrences of one task at once (after a restart, a
freeze, a database outage or an overload shorter than the misfire grace), running them
all would be a burst, and running the earliest while skipping the rest as "previous
execution not finished" would be a burst in disguise with a misleading reason (a new
user's trial: 7 occurrences of an every-5-s task after a 31 s restart). An occurrence whose
following occurrence is already due too is *superseded*: it is recorded MISSED saying why
it was not fired at its time and which later occurrence ran instead; the latest runs, late,
with a note saying so. APScheduler 3's default ``coalesce=True`` ("roll all these
[missed] executions into one") and Kubernetes CronJob (one Job however many schedules
were missed) do the same.

Due means the *planned* time (jitter included) has come: jitter alone never supersedes an
occurrence. Only scheduled occurrences are coalesced; backfills and replays were each asked
for explicitly, and a manual run is not an occurrence. Beyond the grace the misfire policy
decides (:mod:`apicron.engine.planning`, :meth:`apicron.engine.firing.Firing`): this
module is about what is due within it. The planner applies it to the occurrences it
writes; the fence (:mod:`apicron.engine.firing`) to the ones it holds, against what the
store says of later ones (written by any node, or not planned yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from apicron.calendars.schedule import apply_calendars
from apicron.domain.calendars import Calendar
from apicron.domain.errors import ApicronError
from apicron.domain.jitter import stable_offset_ms
from apicron.domain.misfire import Circumstances
from apicron.domain.models import StoredTask
from apicron.domain.schedules import latest_occurrences, schedule_of
from apicron.engine.calendar_outcomes import calendar_skips
from apicron.engine.dispatch import PlannedExecution
from apicron.store.store import Queries

# Behind schedule by less than this (a busy engine catching up), occurrences due together
# each run late, as DESIGN.md's misfire rule says of an occurrence found within the grace:
# an engine 1-2 s behind under load must not turn every-second occurrences into MISSED rows
# (the suite's three-scheduler test at 500 a second did). From this on (a freeze, a stall),
# or when apicron was down or its database unreachable at the occurrence's time, only the
# latest runs.
CATCH_UP = timedelta(seconds=5)
# A task fires at most once a second (DESIGN.md, Cron): an occurrence found less late than
# this has no later occurrence due yet, so the fence need not ask the store.
MIN_INTERVAL = timedelta(seconds=1)
# How far back from now a not yet planned occurrence is looked for past excluded days.
_LOOK_BACK = 50


def due_together(
    occurrences: Iterable[tuple[datetime, datetime]], now: datetime
) -> tuple[dict[datetime, datetime], datetime | None]:
    """Of one task's occurrences ``(scheduled_at, planned_at)``, those due by ``now``
    (``planned_at <= now``): each but the latest mapped to the latest (scheduled times),
    and the latest (None: none due)."""
    due = sorted(at for at, planned in occurrences if planned <= now)
    if not due:
        return {}, None
    latest = due[-1]
    return {at: latest for at in due[:-1]}, latest


def may_coalesce(fire_at: datetime, now: datetime, circumstances: Circumstances) -> bool:
    """Whether an occurrence planned for ``fire_at`` gives way to a later one due too: it
    was due during a downtime or an outage, or the engine is :data:`CATCH_UP` behind."""
    return now - fire_at >= CATCH_UP or circumstances.was_down(fire_at, now)


def coalescible(item: PlannedExecution) -> bool:
    """A scheduled occurrence on its first attempt that did not wait on purpose."""
    return item.trigger == "SCHEDULE" and item.first_attempt == 1 and not item.buffered


def latest_unplanned_due(
    task: StoredTask, next_fire: datetime, now: datetime, calendars: Sequence[Calendar] = ()
) -> datetime | None:
    """The latest occurrence of ``task`` in [``next_fire``, ``now``] not planned yet that
    is surely due (its planned time has come, whatever jitter it is given) and that no
    calendar removes; None if there is none (or its schedule cannot be evaluated: then
    nothing is superseded, the planner reports the schedule)."""
    if task.jitter_s <= 0:
        bound = timedelta(0)
    elif task.jitter_mode == "STABLE":
        bound = timedelta(milliseconds=stable_offset_ms(task.id, task.jitter_s))
    else:  # RANDOM: drawn when planned, at most the window
        bound = timedelta(seconds=task.jitter_s)
    until = now - bound
    if next_fire > until:
        return None
    try:
        schedule = apply_calendars(schedule_of(task), calendars, task.calendar_policy)
        times = latest_occurrences(schedule, next_fire, until, _LOOK_BACK)
        skipped = calendar_skips(schedule, times)
    except ApicronError:
        return None
    return next((at for at in reversed(times) if at not in skipped), None)


def superseded_in_store(
    q: Queries, items: Sequence[PlannedExecution], now: datetime
) -> dict[str, datetime]:
    """Of held occurrences due now, those a later occurrence of the same task due too
    supersedes, by execution id, with the later occurrence's scheduled time: one written
    down (any node) that ran or will run, or one not planned yet (the task's next fire
    time has come; its planning runs the latest due)."""
    candidates = [p for p in items if coalescible(p) and now - p.scheduled_at >= MIN_INTERVAL]
    if not candidates:
        return {}
    later = q.later_occurrences([p.task.id for p in candidates], now)
    if not later:
        return {}
    calendar_ids = sorted({i for p in candidates if p.task.id in later
                           for i in p.task.calendar_ids})
    calendars = q.calendars_by_id(calendar_ids) if calendar_ids else {}
    found: dict[str, datetime] = {}
    for p in candidates:
        known = later.get(p.task.id)
        if known is None:
            continue
        after = [at for at in (known.recorded,) if at is not None and at > p.scheduled_at]
        if known.next_fire is not None and known.next_fire > p.scheduled_at:
            unplanned = latest_unplanned_due(
                p.task, known.next_fire, now,
                [calendars[i] for i in p.task.calendar_ids if i in calendars])
            if unplanned is not None:
                after.append(unplanned)
        if after:
            found[p.id] = max(after)
    return found
