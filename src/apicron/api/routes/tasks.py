from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import (
    AwareTextDatetime,
    Execution,
    ExecutionStatus,
    Page,
    Task,
    TaskCreate,
    TaskStatus,
    TaskUpdate,
)
from apicron.services import executions, tasks

router = APIRouter(prefix="/v1/tasks", tags=["scheduled tasks"], responses=ERRORS)


@router.post("", status_code=201, **needs(Permission.TASKS))
def create_task(ctx: Ctx, spec: TaskCreate) -> Task:
    """Creates the task INITIALIZED; start it to have it fire."""
    return tasks.create_task(ctx, spec)


@router.get("", **needs(Permission.READ))
def list_tasks(
    ctx: Ctx,
    name: NameFilter = None,
    status: Annotated[TaskStatus | None, Query()] = None,
    app_id: str | None = None,
    api_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Task]:
    return tasks.list_tasks(
        ctx, name=name, status=status, app_id=app_id, api_id=api_id, offset=offset, limit=limit
    )


@router.get("/{task_id}", **needs(Permission.READ))
def get_task(ctx: Ctx, task_id: str) -> Task:
    return tasks.get_task(ctx, task_id)


@router.put("/{task_id}", **needs(Permission.TASKS))
def update_task(ctx: Ctx, task_id: str, patch: TaskUpdate) -> Task:
    """Changes the fields given (null clears an optional one); refused while STARTED."""
    return tasks.update_task(ctx, task_id, patch)


@router.delete("/{task_id}", status_code=204, **needs(Permission.TASKS))
def delete_task(ctx: Ctx, task_id: str) -> Response:
    tasks.delete_task(ctx, task_id)
    return Response(status_code=204)


@router.post("/{task_id}/start", **needs(Permission.TASKS))
def start_task(ctx: Ctx, task_id: str) -> Task:
    return tasks.start_task(ctx, task_id)


@router.post("/{task_id}/stop", **needs(Permission.TASKS))
def stop_task(ctx: Ctx, task_id: str) -> Task:
    return tasks.stop_task(ctx, task_id)


@router.post("/{task_id}/run", status_code=202, **needs(Permission.TASKS))
def run_task(ctx: Ctx, task_id: str) -> Execution:
    """Fire once now (trigger MANUAL), in any state; answers the queued execution."""
    return executions.run_task(ctx, task_id)


@router.get("/{task_id}/executions", **needs(Permission.READ))
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
    """Newest first, each with its attempts."""
    return executions.list_executions(
        ctx, task_id, status=status, start=start, end=end, offset=offset, limit=limit
    )
