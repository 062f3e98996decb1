"""Clone a task, and start or stop every task a filter matches (issue 18).

A clone copies a task's configuration (trigger, request, policies, alerting, tags) into a
new INITIALIZED task; never its history, status or next fire time. A bulk action acts on
each matched task in its own transaction, through the same service as a single start or
stop (so the same rules and the same audit entries): one task's refusal is reported with
that task and does not stop the others.
"""

from __future__ import annotations

from typing import Literal

from apicron.domain.access import Permission
from apicron.domain.errors import ApicronError, InvalidInput
from apicron.domain.models import StoredTask, Task, TaskCreate
from apicron.domain.task_actions import BULK_MAX, BulkAction, BulkItem, BulkResult, TaskClone
from apicron.domain.validation import validate
from apicron.services import tasks
from apicron.services.context import Context

Action = Literal["start", "stop"]


def clone_task(ctx: Context, task_id: str, spec: TaskClone) -> Task:
    """A new INITIALIZED task named ``spec.name`` with ``task_id``'s configuration.

    Raises NotFound for an unknown task, Conflict for a name in use, InvalidInput when the
    copy breaks a rule today (e.g. its API was unpublished since, or its end time passed).
    """
    ctx.require(Permission.TASKS)
    with ctx.store.read() as q:
        source = tasks.load_task(q, task_id)
    fields = tasks._fields_of(source)
    fields["name"] = spec.name
    if source.effective_wall is not None:
        # The wall time as typed, so that a DST gap keeps the same meaning in the copy.
        fields["effective_time"] = source.effective_wall.isoformat()
    else:
        fields["effective_time"] = source.effective_time.isoformat()
    for name in ("end_time",):
        value = fields[name]
        fields[name] = None if value is None else value.isoformat()
    return tasks.create_task(ctx, validate(TaskCreate, fields))


def _wanted(action: Action, task: StoredTask) -> bool:
    """Whether ``action`` would change ``task``."""
    return task.status != "STARTED" if action == "start" else task.status == "STARTED"


def bulk_action(ctx: Context, action: Action, request: BulkAction) -> BulkResult:
    """Start or stop every task ``request.filter`` matches, or (``dry_run``) say which
    would change. Tasks already in the wanted state are UNCHANGED (a stop with a note
    still sets the note on a STOPPED task); never-started tasks are UNCHANGED by a stop.

    Raises InvalidInput (field ``filter``) when more than :data:`BULK_MAX` tasks match,
    (field ``note``) for a note on a start; nothing is changed then.
    """
    ctx.require(Permission.TASKS)
    if action == "start" and request.note is not None:
        raise InvalidInput("a note is given when stopping, not when starting", field="note")
    chosen = request.filter
    with ctx.store.read() as q:
        total, matched = q.list_tasks(
            name=None, status=chosen.status, app_id=None, api_id=None, offset=0,
            limit=BULK_MAX + 1, tags=chosen.tags, name_prefix=chosen.name_prefix,
            ids=chosen.ids,
        )
    if total > BULK_MAX:
        raise InvalidInput(
            f"matches {total} tasks; one bulk action changes at most {BULK_MAX}: narrow it",
            field="filter",
        )
    items = [_act(ctx, action, task, request) for task in matched]
    return BulkResult(
        action=action, dry_run=request.dry_run, total=len(items),
        changed=sum(i.outcome == "CHANGED" for i in items),
        failed=sum(i.outcome == "FAILED" for i in items), items=items,
    )


def _act(ctx: Context, action: Action, task: StoredTask, request: BulkAction) -> BulkItem:
    def item(status: str, outcome: str, error: ApicronError | None = None) -> BulkItem:
        return BulkItem.model_validate({
            "id": task.id, "name": task.name, "status_before": task.status, "status": status,
            "outcome": outcome, "error_code": None if error is None else error.code,
            "error_msg": None if error is None else str(error),
        })

    changes = _wanted(action, task)
    if request.dry_run:
        refused = tasks.start_refusals(ctx, [task.id]).get(task.id) if (
            changes and action == "start") else None
        if refused is not None:
            # Issue 15: a dry run answers what the start would (e.g. a COMPLETED one-off),
            # never a WOULD_CHANGE the real run then refuses.
            return item(task.status, "FAILED", refused)
        return item(task.status, "WOULD_CHANGE" if changes else "UNCHANGED")
    if not changes and not (action == "stop" and task.status == "STOPPED"
                            and request.note is not None):
        return item(task.status, "UNCHANGED")
    try:
        if action == "start":
            after = tasks.start_task(ctx, task.id)
        else:
            after = tasks.stop_task(ctx, task.id, request.note)
    except ApicronError as error:
        # Reported with the task (e.g. its API was unpublished: TASK_EXPIRED, a 400 rule);
        # the other tasks go on. A database outage is not an ApicronError and stops all.
        return item(task.status, "FAILED", error)
    return item(after.status, "CHANGED" if changes else "UNCHANGED")
