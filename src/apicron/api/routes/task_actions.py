"""Clone a task and start/stop tasks in bulk (issue 18).

Included before the tasks router: ``/v1/tasks/bulk/start`` must not be read as the start
of a task whose id is ``bulk``.
"""

from __future__ import annotations

from fastapi import APIRouter

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Task
from apicron.domain.task_actions import BulkAction, BulkResult, TaskClone
from apicron.services import task_actions

router = APIRouter(prefix="/v1/tasks", tags=["scheduled tasks"], responses=ERRORS)

_BULK_EXAMPLE = {"filter": {"tags": {"env": "staging"}, "status": "STARTED"},
                 "dry_run": True, "note": "paused: backend migration until Friday"}


@router.post(
    "/bulk/start", operation_id="bulkStartTasks",
    summary="Start every task a filter matches",
    **needs(Permission.TASKS, extra=body_example(
        {"filter": {"tags": {"env": "staging"}, "name_prefix": "sync_"}, "dry_run": True})),
)
def bulk_start(ctx: Ctx, request: BulkAction) -> BulkResult:
    """Starts each task matching every condition of ``filter`` (tags, status, name_prefix,
    ids; at least one; at most 1000 tasks). Each task is started as by
    ``POST /v1/tasks/{id}/start``; one that cannot be is listed ``FAILED`` with its error,
    and the others are still started. ``dry_run``: nothing changes, the answer lists
    what would (``WOULD_CHANGE``)."""
    return task_actions.bulk_action(ctx, "start", request)


@router.post(
    "/bulk/stop", operation_id="bulkStopTasks",
    summary="Stop every task a filter matches",
    **needs(Permission.TASKS, extra=body_example(_BULK_EXAMPLE)),
)
def bulk_stop(ctx: Ctx, request: BulkAction) -> BulkResult:
    """Stops each task matching every condition of ``filter``, with the optional ``note``
    as its stop reason; like ``bulk/start`` otherwise (per-task errors listed, a dry run
    changes nothing)."""
    return task_actions.bulk_action(ctx, "stop", request)


@router.post(
    "/{task_id}/clone", status_code=201, operation_id="cloneTask",
    summary="Copy a task into a new one",
    **needs(Permission.TASKS, extra=body_example({"name": "nightly_sync_copy"})),
)
def clone_task(ctx: Ctx, task_id: str, spec: TaskClone) -> Task:
    """A new INITIALIZED task with the given name and the task's configuration (trigger,
    request, policies, success conditions, alerts, tags); never its history or status.
    The copy is checked as a new task is (its API still published, a fire time left)."""
    return task_actions.clone_task(ctx, task_id, spec)
