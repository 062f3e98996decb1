"""Backfill a task over a past range, and replay one execution (issue 18).

Both only write PENDING execution rows nobody holds yet (the queue, like a manual run):
whichever engine takes them runs them, and one that dies meanwhile leaves them to the
next (nothing accepted lives only in memory).

**Replay is a new execution** (trigger ``REPLAY``, ``replay_of`` = the original, the same
``scheduled_at``), not new attempts under the original's id: the original's history stays
what happened (its status, attempts and final answer are never rewritten after the fact,
so alerts and audits that named it stay true), an execution's attempts stay one run of the
retry policy, and the unique index on SCHEDULE occurrences is not touched (a REPLAY row is
not a SCHEDULE row). The backend still sees the original occurrence: the same
``X-Apicron-Scheduled-Time`` and ``{{scheduled_time}}``/``{{window_*}}``, with the new
execution's id.
"""

from __future__ import annotations

from datetime import datetime

from apicron.domain.access import Permission
from apicron.domain.backfill import (
    MAX_BACKFILL,
    BackfillOccurrence,
    BackfillRequest,
    BackfillResult,
)
from apicron.domain.errors import Conflict, InvalidInput, NotFound
from apicron.domain.models import Execution, StoredTask
from apicron.domain.schedules import schedule_of
from apicron.services.audit import audit
from apicron.services.context import Context, new_id
from apicron.services.tasks import load_task
from apicron.store.records import NewExecution

_UNFINISHED = frozenset({"PENDING", "RUNNING"})


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def backfill_occurrences(task: StoredTask, start: datetime, end: datetime) -> list[datetime]:
    """The task's fire times in [``start``, ``end``), at most :data:`MAX_BACKFILL`;
    raises :class:`InvalidInput` naming ``to`` when the range holds more."""
    schedule = schedule_of(task)
    times: list[datetime] = []
    current = schedule.first_at_or_after(start)
    while current is not None and current < end:
        if len(times) == MAX_BACKFILL:
            raise InvalidInput(
                f"the range holds more than {MAX_BACKFILL} occurrences of the task (the "
                f"{MAX_BACKFILL + 1}st is at {_rfc3339(current)}); backfill at most "
                f"{MAX_BACKFILL} at a time: set 'to' at or before {_rfc3339(current)}",
                field="to",
            )
        times.append(current)
        current = schedule.next_after(current)
    return times


def _check_in_effect(task: StoredTask, spec: BackfillRequest) -> None:
    """Refuse a range that starts before the task took effect, or at or after it ended:
    the task has no occurrences there, and a backfill that quietly finds none there (a new
    user's trial: a task created today, backfilled over last night, "would queue 0") looks
    like one that worked. Raises :class:`InvalidInput` naming ``from``."""
    if spec.start < task.effective_time:
        took_effect = _rfc3339(task.effective_time)
        raise InvalidInput(
            f"is before the task's effective_time ({took_effect}): the task has no "
            f"occurrences before it. Backfill from {took_effect} on, or move the task's "
            "effective_time earlier first (stop it, update effective_time, start it again)",
            field="from",
        )
    if task.end_time is not None and spec.start >= task.end_time:
        raise InvalidInput(
            f"is at or after the task's end_time ({_rfc3339(task.end_time)}): the task has "
            "no occurrences after it", field="from",
        )


def backfill_task(ctx: Context, task_id: str, spec: BackfillRequest) -> BackfillResult:
    """Queue one BACKFILL execution per occurrence of the task in [from, to).

    Occurrences with a SUCCEEDED execution (any trigger but MANUAL) are left alone unless
    ``rerun_succeeded``; those with an execution still to run (PENDING, RUNNING) always
    are. Works in any task state, like a manual run. Raises :class:`InvalidInput` (``to``
    not after ``from``, in the future, or more than :data:`MAX_BACKFILL` occurrences;
    ``from`` before the task's effective_time or at or after its end_time),
    :class:`NotFound`.
    """
    ctx.require(Permission.TASKS)
    now = ctx.now()
    if spec.end <= spec.start:
        raise InvalidInput("must be after 'from'", field="to")
    if spec.end > now:
        raise InvalidInput(
            f"must not be in the future (it is {_rfc3339(now)} now): a backfill runs "
            "occurrences that have passed; the schedule runs the others", field="to",
        )
    sequence_id = new_id() if spec.mode == "SEQUENTIAL" else None
    transaction = ctx.store.read() if spec.dry_run else ctx.scheduling()
    with transaction as q:
        task = load_task(q, task_id)
        _check_in_effect(task, spec)
        times = backfill_occurrences(task, spec.start, spec.end)
        statuses = q.occurrence_statuses(task.id, times)
        in_progress = [t for t in times if statuses.get(t, set()) & _UNFINISHED]
        succeeded = [t for t in times if t not in in_progress
                     and "SUCCEEDED" in statuses.get(t, set())]
        chosen = [t for t in times if t not in in_progress
                  and (spec.rerun_succeeded or t not in succeeded)]
        note = (f"backfill {spec.mode} of {_rfc3339(spec.start)} to {_rfc3339(spec.end)}, "
                f"asked at {_rfc3339(now)}")
        rows = [NewExecution(
            id=new_id(), task_id=task.id, scheduled_at=at, status="PENDING", created_at=now,
            trigger="BACKFILL", note=note, sequence_id=sequence_id,
        ) for at in chosen]
        if spec.dry_run:
            queued = rows
        else:
            # A backfill running at the same time over the same range took some first
            # (the partial unique index): those are in progress, not queued twice.
            inserted = q.insert_executions(rows)
            queued = [r for r in rows if r.id in inserted]
            in_progress += [r.scheduled_at for r in rows if r.id not in inserted]
            audit(q, ctx, "backfill", "task", task.id, name=task.name, changes={
                "backfill": {"before": None, "after": {
                    "from": _rfc3339(spec.start), "to": _rfc3339(spec.end),
                    "mode": spec.mode, "rerun_succeeded": spec.rerun_succeeded,
                    "queued": len(queued)}},
            })
    # A dry run stored nothing: its rows' ids name no execution, so none is answered.
    ids = {} if spec.dry_run else {r.scheduled_at: r.id for r in queued}
    return BackfillResult(
        task_id=task.id, mode=spec.mode, dry_run=spec.dry_run, queued=len(queued),
        first=queued[0].scheduled_at if queued else None,
        last=queued[-1].scheduled_at if queued else None,
        skipped_succeeded=len(succeeded) if not spec.rerun_succeeded else 0,
        skipped_in_progress=len(in_progress),
        sequence_id=sequence_id if queued and not spec.dry_run else None,
        execution_ids=list(ids.values()),
        occurrences=_occurrences(times, {r.scheduled_at for r in queued}, set(in_progress),
                                 ids),
    )


def _occurrences(times: list[datetime], queued: set[datetime], in_progress: set[datetime],
                 ids: dict[datetime, str]) -> list[BackfillOccurrence]:
    """Each occurrence with its action: queued ones RUN, the others were left alone as
    in progress or (the only other reason) already SUCCEEDED."""
    return [BackfillOccurrence(
        scheduled_at=at,
        action="RUN" if at in queued else
        "SKIP_IN_PROGRESS" if at in in_progress else "SKIP_SUCCEEDED",
        execution_id=ids.get(at),
    ) for at in times]


def replay_execution(ctx: Context, execution_id: str) -> Execution:
    """Queue a new execution (trigger REPLAY) of the same occurrence as ``execution_id``
    (its ``scheduled_at``), linked to it by ``replay_of``; answers the queued execution.

    Raises :class:`NotFound`, and :class:`Conflict` while the original is still to run
    (PENDING or RUNNING): replaying it then would run the occurrence twice at once.
    """
    ctx.require(Permission.TASKS)
    now, new = ctx.now(), new_id()
    with ctx.scheduling() as q:
        original = q.get_execution(execution_id)
        if original is None:
            raise NotFound(f"no execution with id {execution_id!r}")
        if original.status in _UNFINISHED:
            raise Conflict(
                f"execution {execution_id} is {original.status}: replay it once it has "
                "finished"
            )
        task = load_task(q, original.task_id)
        q.insert_executions([NewExecution(
            id=new, task_id=task.id, scheduled_at=original.scheduled_at, status="PENDING",
            created_at=now, trigger="REPLAY", replay_of=original.id,
            note=f"replay of execution {original.id} ({original.status})",
        )])
        execution = q.get_execution(new)
        audit(q, ctx, "replay", "execution", original.id, name=task.name,
              changes={"execution_id": {"before": None, "after": new}})
    assert execution is not None
    return execution
