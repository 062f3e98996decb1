"""A task's own page (issue 15): its whole configuration read-only (also while Started),
its schedule and next fire times, the equivalent ``curl``, its recent runs as a status
strip and a duration chart, and its actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from apicron.console.curl import curl_command
from apicron.console.run_charts import CHART_HEIGHT, CHART_WIDTH, SYMBOLS, recent_runs
from apicron.console.task_offers import start_refusals
from apicron.console.task_pages import calendar_names
from apicron.console.web import PREFIX, Answer, Ctx, SessionDep, back, render
from apicron.domain import rules
from apicron.domain.errors import ApicronError
from apicron.domain.models import Task
from apicron.services import apis, apps, calendars, channels, executions, groups, instance, tasks
from apicron.services.context import Context

router = APIRouter(prefix=PREFIX, include_in_schema=False)
RECENT = 50
FIRE_TIMES = 10


def _request_view(ctx: Context, task: Task) -> dict[str, Any]:
    """The API the task calls (the published snapshot when there is one), the gateway URL
    the task really calls and the equivalent curl command.

    Path parameters are filled from the task's query as the engine fills them
    (:func:`apicron.domain.rules.split_path_params`, :func:`~apicron.domain.rules.fill_path`);
    when the task lacks one (its API's path changed since), ``request_error`` says what
    the engine will answer and the URL stays a template, marked as such."""
    app = apps.get_app(ctx, task.app_id)
    draft = apis.get_api(ctx, task.api_id)
    published = next((p for p in apis.list_published(ctx) if p.id == task.api_id), None)
    group = groups.get_group(ctx, draft.group_id)
    method = published.method if published else draft.method
    path = published.path if published else draft.path
    auth_type = published.auth_type if published else draft.auth_type
    given = [(p.name, p.value) for p in task.request.query]
    request_error = None
    try:
        values, query = rules.split_path_params("request.query", path, task.request.query)
        path = rules.fill_path(path, values)
    except ApicronError as error:
        query, request_error = given, str(error)
    url = ctx.gateway_url.rstrip("/") + path
    return {
        "app": app, "api": draft, "published": published, "group": group, "method": method,
        "gateway_api_url": url, "auth_type": auth_type, "request_error": request_error,
        "curl": curl_command(method=method, url=url, query=query, request=task.request,
                             auth_type=auth_type, app_key=app.key, host=group.domain or None),
    }


def _fire_times(ctx: Context, task: Task) -> tuple[list[Any], str | None]:
    try:
        # Issue 18: with its business calendars applied, as the engine plans it.
        return calendars.next_fire_times(ctx, task, FIRE_TIMES), None
    except ApicronError as error:  # e.g. a zone gone from tzdata since it was saved
        return [], str(error)


@router.get("/tasks/{task_id}")
def task_page(request: Request, session: SessionDep, ctx: Ctx, task_id: str) -> Answer:
    try:
        task = tasks.get_task(ctx, task_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    fire_times, schedule_error = _fire_times(ctx, task)
    recent = executions.list_executions(
        ctx, task_id, status=None, start=None, end=None, offset=0, limit=RECENT
    )
    channel_names = {c.id: c.name for c in channels.list_channels(
        ctx, kind=None, offset=0, limit=500).items}
    return render(
        request, session, "task.html", nav="tasks", task=task, fire_times=fire_times,
        schedule_error=schedule_error, recent=recent_runs(recent.items, RECENT),
        calendar_names=calendar_names(ctx) if task.calendar_ids else {},
        runs_total=recent.total, symbols=SYMBOLS, chart_width=CHART_WIDTH,
        chart_height=CHART_HEIGHT, channel_names=channel_names,
        default_alerts=instance.get_instance(ctx).default_alerts, **_request_view(ctx, task),
        start_refused=start_refusals(ctx, [task]).get(task.id),
    )
