"""API Connect > API Policies > Scheduled Tasks: list, create/edit, lifecycle, history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from apicron.console.history_filter import PAGE_SIZE as HISTORY_PAGE
from apicron.console.history_filter import STATUSES as HISTORY_STATUSES
from apicron.console.history_filter import TRIGGERS, HistoryFilter, read_filter
from apicron.console.task_form import (
    ADVANCED_FIELDS,
    BODY_METHODS,
    form_values,
    placed,
    run_at_given,
    task_data,
    values_of,
    wall_time,
)
from apicron.console.task_offers import start_refusals
from apicron.console.task_organise_pages import console_tag_filter
from apicron.console.web import (
    PREFIX,
    Answer,
    Ctx,
    FormDep,
    JsonDep,
    SessionDep,
    act,
    back,
    refused,
    render,
    timezones,
)
from apicron.domain.errors import ApicronError, InvalidInput, Problem
from apicron.domain.models import PreviewRequest, TaskCreate, TaskUpdate
from apicron.domain.validation import validate
from apicron.domain.vocabulary import (
    AfterCompletion,
    CalendarPolicy,
    ContentType,
    IntervalUnit,
    JitterMode,
    MisfirePolicy,
    OverlapPolicy,
    TaskStatus,
    TriggerType,
    choices,
)
from apicron.services import apis as apis_service
from apicron.services import (
    apps,
    calendars,
    channels,
    executions,
    grants,
    instance,
    preview,
    tasks,
)
from apicron.services.context import Context

_Input = TypeVar("_Input", TaskCreate, TaskUpdate)
router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE_SIZE = 10
ALL = 500
STATUSES: tuple[TaskStatus, ...] = choices(TaskStatus)


# The form's choice lists (issue 18), from the vocabulary.
FORM_CHOICES: dict[str, tuple[str, ...]] = {
    "trigger_types": choices(TriggerType),
    "interval_units": choices(IntervalUnit),
    "after_completions": choices(AfterCompletion),
    "jitter_modes": choices(JitterMode),
    "calendar_policies": choices(CalendarPolicy),
    "misfire_policies": choices(MisfirePolicy),
    "overlap_policies": choices(OverlapPolicy),
    "content_types": choices(ContentType),
}


def calendar_names(ctx: Context) -> dict[str, str]:
    """Every business calendar's id -> name (the form's multi-select, the task page)."""
    return {c.id: c.name for c in calendars.list_calendars(
        ctx, name=None, offset=0, limit=ALL).items}


def _app_names(ctx: Context) -> dict[str, str]:
    return {a.id: a.name for a in apps.list_apps(ctx, None, 0, ALL).items}


def _catalog(ctx: Context) -> dict[str, Any]:
    """What Select API needs to decide, per app, which published APIs a task may call."""
    # The snapshot, not the draft, is what a task calls.
    published = apis_service.list_published(ctx)
    granted: dict[str, list[str]] = {}
    for grant in grants.list_grants(ctx, None, None, 0, ALL).items:
        granted.setdefault(grant.app_id, []).append(grant.api_id)
    return {
        "apis": [
            {"id": a.id, "name": a.name, "method": a.method, "path": a.path,
             "auth_type": a.auth_type, "app_id": a.app_id}
            for a in published
        ],
        "grants": granted,
        "apps": _app_names(ctx),
        "body_methods": list(BODY_METHODS),
    }


def _task_list(
    ctx: Context, q: str, status: str, app_id: str, page: int, tag: str = ""
) -> dict[str, Any]:
    """What the task list and its refreshed table show."""
    page = min(max(page, 1), 1_000_000)
    chosen: TaskStatus | None = next((s for s in STATUSES if s == status), None)
    # Issue 18: "env=prod, team=billing" (every one must match).
    wanted, tag_error = console_tag_filter(tag)
    result = tasks.list_tasks(
        ctx, name=q.strip()[:64] or None, status=chosen, app_id=app_id or None, api_id=None,
        offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, tags=wanted,
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    api_names = {a["id"]: a["name"] for a in _catalog(ctx)["apis"]}
    return {
        "tasks": result.items, "total": result.total, "q": q, "status": chosen or "",
        "app_id": app_id, "page": page, "pages": pages, "statuses": STATUSES,
        "app_names": _app_names(ctx), "api_names": api_names, "tag": tag,
        "tag_error": tag_error, "start_refused": start_refusals(ctx, result.items),
    }


@router.get("/tasks")
def tasks_page(
    request: Request,
    session: SessionDep,
    ctx: Ctx,
    q: str = "",
    status: str = "",
    app_id: str = "",
    page: int = 1,
    tag: str = "",
) -> HTMLResponse:
    return render(request, session, "tasks.html", nav="tasks",
                  **_task_list(ctx, q, status, app_id, page, tag))


@router.get("/tasks/table")
def tasks_table(
    request: Request,
    session: SessionDep,
    ctx: Ctx,
    q: str = "",
    status: str = "",
    app_id: str = "",
    page: int = 1,
    tag: str = "",
) -> HTMLResponse:
    """The task list's table alone, for its refresh every few seconds (issue 15)."""
    return render(request, session, "tasks_table.html", flashes=[],
                  **_task_list(ctx, q, status, app_id, page, tag))


def _form_page(
    request: Request,
    session: SessionDep,
    ctx: Context,
    values: dict[str, Any],
    errors: dict[str, str],
    task_id: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request, session, "task_form.html", http_status=status, nav="tasks",
        values=form_values(values),
        errors=errors, task_id=task_id, zones=timezones(), app_names=_app_names(ctx),
        channel_names={c.id: c.name for c in channels.list_channels(
            ctx, kind=None, offset=0, limit=500).items},
        catalog=json.dumps(_catalog(ctx)).replace("<", "\\u003c"),
        calendar_names=calendar_names(ctx), advanced_fields=ADVANCED_FIELDS, **FORM_CHOICES,
    )


@router.get("/tasks/new")
def new_task_page(request: Request, session: SessionDep, ctx: Ctx) -> Answer:
    if away := refused(session, "TASKS", f"{PREFIX}/tasks"):
        return away
    values = {
        "timezone": instance.get_instance(ctx).timezone, "trigger_type": "CRON",
        "interval_unit": "MINUTE", "interval_value": 1, "max_retries": 0,
        "request": {"headers": [], "query": [], "body": None},
    }
    return _form_page(request, session, ctx, values, {})


def _invalid(
    request: Request, session: SessionDep, ctx: Context, values: dict[str, Any],
    error: ApicronError, task_id: str | None = None,
) -> HTMLResponse:
    return _form_page(request, session, ctx, values, placed(error), task_id, error.status)


@router.post("/tasks")
def create_task(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    data = task_data(form)
    try:
        task = tasks.create_task(ctx, _checked(TaskCreate, data, ctx.now()))
    except ApicronError as error:
        return _invalid(request, session, ctx, data, error)
    session.flash("ok", f"Scheduled task {task.name} created: it is Initialized; "
                        "click Start to have it run.")
    return back(f"{PREFIX}/tasks")


def _checked(model: type[_Input], data: dict[str, Any], now: datetime) -> _Input:
    """The form's ``data`` as ``model``, with a relative Run At ("in 10 minutes") read from
    ``now``. Raises ApicronError naming every problem at once: a Run At that cannot be
    read is listed with whatever else the form breaks, not alone (issue 15)."""
    try:
        given = run_at_given(data, now)
    except ApicronError as unreadable:
        others: list[Problem] = []
        try:
            validate(model, {k: v for k, v in data.items() if k != "run_at"})
        except ApicronError as rest:
            others = [p for p in rest.problems if p.field != "run_at"]
        if not others:
            raise
        raise InvalidInput(unreadable.rule, field="run_at", more=others) from None
    return validate(model, given)


@router.get("/tasks/{task_id}/edit")
def edit_task_page(request: Request, session: SessionDep, ctx: Ctx, task_id: str) -> Answer:
    if away := refused(session, "TASKS", f"{PREFIX}/tasks"):
        return away
    try:
        task = tasks.get_task(ctx, task_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    if task.status == "STARTED":
        session.flash("error", f"Task {task.name} is Started: stop it before editing it.")
        return back(f"{PREFIX}/tasks")
    return _form_page(request, session, ctx, values_of(task), {}, task_id)


@router.post("/tasks/{task_id}/edit")
def update_task(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, task_id: str
) -> Answer:
    data = task_data(form)
    try:
        task = tasks.update_task(
            ctx, task_id, _checked(TaskUpdate, data, ctx.now()))
    except ApicronError as error:
        return _invalid(request, session, ctx, data, error, task_id)
    session.flash("ok", f"Scheduled task {task.name} saved.")
    return back(f"{PREFIX}/tasks")


@router.post("/tasks/{task_id}/start")
def start_task(task_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    return act(session, f"{PREFIX}/tasks",
               lambda: f"Task {tasks.start_task(ctx, task_id).name} started.")


@router.post("/tasks/{task_id}/stop")
def stop_task(task_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    return act(session, f"{PREFIX}/tasks",
               lambda: f"Task {tasks.stop_task(ctx, task_id).name} stopped.")


@router.post("/tasks/{task_id}/delete")
def delete_task(task_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        tasks.delete_task(ctx, task_id)
        return "Task deleted."

    return act(session, f"{PREFIX}/tasks", delete)


@router.post("/tasks/{task_id}/run")
def run_task(task_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    try:
        executions.run_task(ctx, task_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    session.flash("ok", "Run queued: the execution appears below within a second.")
    return back(f"{PREFIX}/tasks/{task_id}/history")


def _history(ctx: Context, task_id: str, chosen: HistoryFilter) -> dict[str, Any]:
    page = executions.list_executions(
        ctx, task_id, status=chosen.status or None, start=chosen.start, end=chosen.end,
        offset=chosen.offset, limit=HISTORY_PAGE, trigger=chosen.trigger or None,
    )
    pages = max(1, -(-page.total // HISTORY_PAGE))
    return {"executions": page.items, "total": page.total, "filter": chosen, "pages": pages,
            "statuses": HISTORY_STATUSES, "triggers": TRIGGERS}


@router.get("/tasks/{task_id}/history")
def history_page(
    request: Request, session: SessionDep, ctx: Ctx, task_id: str, status: str = "",
    trigger: str = "", from_: Annotated[str, Query(alias="from")] = "",
    to: str = "", page: int = 1,
) -> Answer:
    try:
        task = tasks.get_task(ctx, task_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    chosen = read_filter(status=status, trigger=trigger, from_date=from_, to_date=to,
                         page=page, zone=task.timezone)
    return render(
        request, session, "history.html", nav="tasks", task=task,
        **_history(ctx, task_id, chosen),
    )


@router.get("/tasks/{task_id}/history/rows")
def history_rows(
    request: Request, session: SessionDep, ctx: Ctx, task_id: str, status: str = "",
    trigger: str = "", from_: Annotated[str, Query(alias="from")] = "",
    to: str = "", page: int = 1,
) -> HTMLResponse:
    task = tasks.get_task(ctx, task_id)
    chosen = read_filter(status=status, trigger=trigger, from_date=from_, to_date=to,
                         page=page, zone=task.timezone)
    # flashes=[]: a background refresh must not swallow a message meant for a page
    return render(
        request, session, "history_rows.html", task=task, flashes=[],
        **_history(ctx, task_id, chosen),
    )


@router.post("/api/preview")
def preview_trigger(ctx: Ctx, raw: JsonDep) -> JSONResponse:
    """The live description and next fire times under the trigger fields."""
    if not isinstance(raw, dict):
        return JSONResponse({"field": "body", "error_msg": "must be a JSON object"}, 400)
    data = {k: v for k, v in raw.items() if v not in ("", None)}
    for moment in ("effective_time", "end_time", "run_at"):
        if isinstance(data.get(moment), str):
            data[moment] = wall_time(data[moment])  # "2027-03-01 09:30" as the form shows it
    try:
        data = run_at_given(data, ctx.now())  # "in 10 minutes", as the form accepts it
        result = preview.preview(ctx, validate(PreviewRequest, data))
    except ApicronError as error:
        return JSONResponse(
            {"field": error.field, "error_msg": error.rule}, status_code=error.status
        )
    return JSONResponse(
        {
            "description": result.description,
            "warnings": result.warnings,
            "fire_times": [
                {
                    "at": t.at.isoformat(),
                    "local": t.local,
                    "dst_shifted": t.dst_shifted,
                    "dst_note": t.dst_note,
                    # Issue 18: what a business calendar did to this fire (moved from).
                    "calendar_note": t.calendar_note,
                }
                for t in result.fire_times
            ],
        }
    )
