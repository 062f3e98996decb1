from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.backfill import BackfillRequest, BackfillResult
from apicron.domain.models import AwareTextDatetime, Execution, Page, Task, TaskCreate, TaskUpdate
from apicron.domain.tags import parse_tag_filters
from apicron.domain.task_actions import TaskStop
from apicron.domain.vocabulary import ExecutionStatus, TaskStatus
from apicron.services import backfill, executions, tasks

router = APIRouter(prefix="/v1/tasks", tags=["scheduled tasks"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createTask", summary="Create a scheduled task",
    **needs(Permission.TASKS, extra=body_example({
        "name": "nightly_sync", "app_id": "0c1f5b8a2d3e4f6a9b7c8d9e0f1a2b3c",
        "api_id": "9a8b7c6d5e4f30211203f4e5d6c7b8a9",
        "description": "Sync invoices every weekday night",
        "trigger_type": "CRON", "cron_expression": "0 30 2 ? * MON-FRI",
        "timezone": "Europe/Berlin", "max_retries": 2,
        "request": {
            "headers": [{"name": "X-Tenant", "value": "acme"}],
            "query": [{"name": "region", "value": "eu"}],
            "body": {"content_type": "application/json", "content": "{\"full\": false}"},
        },
        "misfire_policy": "RUN_ONCE", "overlap_policy": "SKIP",
    })),
)
def create_task(ctx: Ctx, spec: TaskCreate) -> Task:
    """Creates the task INITIALIZED; start it to have it fire. Its API must be published,
    and called with the task app's credentials (its own API, or an APP-auth API it holds
    a grant for)."""
    return tasks.create_task(ctx, spec)


@router.get("", operation_id="listTasks", summary="List scheduled tasks", **needs(Permission.READ))
def list_tasks(
    ctx: Ctx,
    name: NameFilter = None,
    status: Annotated[TaskStatus | None, Query()] = None,
    app_id: str | None = None,
    api_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = 20,
    tag: Annotated[list[str] | None, Query(
        description="KEY=VALUE: only tasks with this tag; repeatable (every one must match)",
        examples=["env=prod"])] = None,
    name_prefix: Annotated[str | None, Query(
        max_length=64, description="only tasks whose name starts with this (any case kept)")
    ] = None,
) -> Page[Task]:
    """Tasks by name, optionally in one status, of one app or calling one API, carrying
    given tags (``?tag=env=prod&tag=team=billing``: both)."""
    return tasks.list_tasks(
        ctx, name=name, status=status, app_id=app_id, api_id=api_id, offset=offset, limit=limit,
        tags=parse_tag_filters("tag", tag or []) or None, name_prefix=name_prefix,
    )


@router.get(
    "/{task_id}", operation_id="getTask", summary="Read a scheduled task",
    **needs(Permission.READ),
)
def get_task(ctx: Ctx, task_id: str) -> Task:
    """The task, its schedule in words, its next fire time and its latest execution."""
    return tasks.get_task(ctx, task_id)


@router.put(
    "/{task_id}", operation_id="updateTask",
    summary="Change a scheduled task (only the fields given)",
    **needs(Permission.TASKS, extra=body_example(
        {"cron_expression": "0 0 3 ? * MON-FRI", "max_retries": 3,
         "end_time": None})),
)
def update_task(ctx: Ctx, task_id: str, patch: TaskUpdate) -> Task:
    """Changes the fields given; the others keep their values, and null clears an
    optional one. Refused (409) while STARTED: stop it first."""
    return tasks.update_task(ctx, task_id, patch)


@router.delete("/{task_id}", status_code=204, operation_id="deleteTask",
               summary="Delete a scheduled task", **needs(Permission.TASKS))
def delete_task(ctx: Ctx, task_id: str) -> Response:
    """Deletes it with its history; refused (409) while STARTED: stop it first."""
    tasks.delete_task(ctx, task_id)
    return Response(status_code=204)


@router.post("/{task_id}/start", operation_id="startTask",
             summary="Start a scheduled task", **needs(Permission.TASKS))
def start_task(ctx: Ctx, task_id: str) -> Task:
    """STARTED: it fires on schedule from its next fire time on (a stopped task resumes).
    The task's rules are checked again (published API, grant, instance parameters)."""
    return tasks.start_task(ctx, task_id)


@router.post(
    "/{task_id}/stop", operation_id="stopTask", summary="Stop a scheduled task",
    **needs(Permission.TASKS, extra=body_example(
        {"note": "paused: backend migration until Friday"})),
)
def stop_task(ctx: Ctx, task_id: str, body: TaskStop | None = None) -> Task:
    """STOPPED: it fires no more until started again; an execution running finishes.
    An optional ``note`` says why; it is shown as the task's ``stop_reason`` until it is
    started again."""
    return tasks.stop_task(ctx, task_id, None if body is None else body.note)


@router.post("/{task_id}/run", status_code=202, operation_id="runTask",
             summary="Run a task once now", **needs(Permission.TASKS))
def run_task(ctx: Ctx, task_id: str) -> Execution:
    """Fire once now (trigger MANUAL), in any state; answers the queued execution."""
    return executions.run_task(ctx, task_id)


@router.get("/{task_id}/executions", operation_id="listTaskExecutions",
            summary="List a task's executions", **needs(Permission.READ))
def list_executions(
    ctx: Ctx,
    task_id: str,
    status: Annotated[ExecutionStatus | None, Query()] = None,
    start: Annotated[
        AwareTextDatetime | None,
        Query(alias="from", description="scheduled at or after (RFC 3339, with an offset)"),
    ] = None,
    end: Annotated[
        AwareTextDatetime | None,
        Query(alias="to", description="scheduled before (RFC 3339, with an offset)"),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Execution]:
    """Newest first, each with its attempts; optionally in one status or scheduled in a
    time range."""
    return executions.list_executions(
        ctx, task_id, status=status, start=start, end=end, offset=offset, limit=limit
    )


@router.post(
    "/{task_id}/backfill", status_code=202, operation_id="backfillTask",
    summary="Run a task's past occurrences in a range",
    **needs(Permission.TASKS, extra=body_example({
        "from": "2026-11-28T00:00:00Z", "to": "2026-11-30T00:00:00Z",
        "mode": "SEQUENTIAL", "rerun_succeeded": False,
    })),
)
def backfill_task(ctx: Ctx, task_id: str, spec: BackfillRequest) -> BackfillResult:
    """Queues one execution (trigger `BACKFILL`) per occurrence the task's schedule had in
    [`from`, `to`) — its trigger within its effective and end times — each with the
    occurrence's own `scheduled_at`, so `{{scheduled_time}}` and
    `{{window_start}}`/`{{window_end}}` are the occurrence's. At most 1,000 occurrences
    (400 naming `to` beyond that); `to` must not be in the future. Occurrences that already
    have a SUCCEEDED execution are left alone unless `rerun_succeeded`; those with one
    still to run always are. `SEQUENTIAL` runs them one after the other in time order;
    `PARALLEL` releases them at once, as the engine's call slots allow; neither is held up
    by, nor holds up, the task's scheduled executions (the overlap rule does not apply).
    The executions are stored before the answer (they survive a restart) and run in any
    task state. `dry_run` answers the same without queueing anything."""
    return backfill.backfill_task(ctx, task_id, spec)
