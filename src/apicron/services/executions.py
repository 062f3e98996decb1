"""Execution history and manual runs."""

from __future__ import annotations

from datetime import datetime

from apicron.domain.access import Permission
from apicron.domain.errors import InvalidInput, NotFound
from apicron.domain.models import Execution, Page
from apicron.services.audit import audit
from apicron.services.context import Context, new_id
from apicron.services.tasks import load_task


def run_task(ctx: Context, task_id: str) -> Execution:
    """Seed: run once now, in any state (trigger MANUAL); the engine picks it up at once."""
    ctx.require(Permission.TASKS)
    now, execution_id = ctx.now(), new_id()
    with ctx.scheduling() as q:
        task = load_task(q, task_id)
        q.insert_manual_execution(execution_id, task_id, now)
        execution = q.get_execution(execution_id)
        audit(q, ctx, "run", "task", task_id, name=task.name,
              changes={"execution_id": {"before": None, "after": execution_id}})
    assert execution is not None
    return execution


def list_executions(
    ctx: Context,
    task_id: str,
    *,
    status: str | None,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
    trigger: str | None = None,
) -> Page[Execution]:
    """A task's executions, newest first; ``status``, ``trigger`` (SCHEDULE or MANUAL) and
    the scheduled range [``start``, ``end``) filter them. Raises NotFound for an unknown
    task, InvalidInput (field ``to``) when ``end`` is not after ``start``."""
    ctx.require(Permission.READ)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("must be after 'from'", field="to")
    with ctx.store.read() as q:
        # Issue 18: a one-off task deleted after its run keeps its history (retention).
        if q.get_task(task_id) is None and not q.executions_exist(task_id):
            load_task(q, task_id)
        total, items = q.list_executions(
            task_id, status=status, start=start, end=end, offset=offset, limit=limit,
            trigger=trigger,
        )
        return Page[Execution](total=total, items=q.with_attempts(items))


def get_execution(ctx: Context, execution_id: str) -> Execution:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        execution = q.get_execution(execution_id)
    if execution is None:
        raise NotFound(f"no execution with id {execution_id!r}")
    return execution
