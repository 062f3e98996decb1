"""Console pages of issue 18: clone a task, start/stop tasks in bulk (a dry run shown
first, then confirmed), and stop a task with a note."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from apicron.console.task_form import tags_of_text
from apicron.console.web import PREFIX, Answer, Ctx, FormDep, SessionDep, act, back, refused, render
from apicron.domain.errors import ApicronError, InvalidInput
from apicron.domain.tags import check_tag
from apicron.domain.task_actions import BulkAction, TaskClone, TaskStop
from apicron.domain.validation import validate
from apicron.services import task_actions, tasks

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ACTIONS = ("start", "stop")
PAST = {"start": "started", "stop": "stopped"}
STATUSES = ("INITIALIZED", "STARTED", "STOPPED")


def console_tag_filter(text: str) -> tuple[dict[str, str] | None, str | None]:
    """The task list's tag filter: the tags every task shown must carry, or the error
    naming the tag that can never match (then no tag filter)."""
    wanted = tags_of_text(text[:1000])
    try:
        for key, value in wanted.items():
            check_tag("tag", key, value)
    except InvalidInput as error:
        return None, str(error)
    return wanted or None, None


@router.post("/tasks/{task_id}/stop-with-note")
def stop_with_note(task_id: str, session: SessionDep, form: FormDep, ctx: Ctx) -> RedirectResponse:
    def stop() -> str:
        note = form.get("note").strip() or None
        body = validate(TaskStop, {"note": note})
        stopped = tasks.stop_task(ctx, task_id, body.note)
        return f"Task {stopped.name} stopped" + (f": {stopped.stop_reason}" if note else ".")

    return act(session, f"{PREFIX}/tasks", stop)


@router.get("/tasks/{task_id}/clone")
def clone_page(request: Request, session: SessionDep, ctx: Ctx, task_id: str) -> Answer:
    if away := refused(session, "TASKS", f"{PREFIX}/tasks"):
        return away
    try:
        task = tasks.get_task(ctx, task_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    return render(request, session, "task_clone.html", nav="tasks", task=task,
                  name=f"{task.name}_copy"[:64], error=None)


@router.post("/tasks/{task_id}/clone")
def clone_task(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, task_id: str
) -> Answer:
    name = form.get("name").strip()
    try:
        copy = task_actions.clone_task(ctx, task_id, validate(TaskClone, {"name": name}))
    except ApicronError as error:
        try:
            task = tasks.get_task(ctx, task_id)
        except ApicronError:
            session.flash("error", str(error))
            return back(f"{PREFIX}/tasks")
        return render(request, session, "task_clone.html", http_status=error.status,
                      nav="tasks", task=task, name=name, error=str(error))
    session.flash("ok", f"Scheduled task {copy.name} created as a copy of the task: it is "
                        "Initialized; click Start to have it run.")
    return back(f"{PREFIX}/tasks")


def _bulk_request(form: FormDep, dry_run: bool) -> tuple[str, BulkAction]:
    action = form.get("action")
    if action not in ACTIONS:
        raise InvalidInput("choose Start or Stop", field="action")
    wanted = {
        "tags": tags_of_text(form.get("tags")) or None,
        "status": form.get("status") or None,
        "name_prefix": form.get("name_prefix").strip() or None,
    }
    note = form.get("note").strip() if action == "stop" else ""
    request = {"filter": {k: v for k, v in wanted.items() if v is not None},
               "dry_run": dry_run}
    if note:
        request["note"] = note
    return action, validate(BulkAction, request)


@router.get("/tasks/bulk")
def bulk_page(request: Request, session: SessionDep, ctx: Ctx) -> Answer:
    if away := refused(session, "TASKS", f"{PREFIX}/tasks"):
        return away
    return render(request, session, "task_bulk.html", nav="tasks", values={}, result=None,
                  error=None, statuses=STATUSES)


@router.post("/tasks/bulk")
def bulk_action(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    """First post (no ``confirm``): a dry run listing what would change, with a Confirm
    button carrying the same filter; the second post does it."""
    values = {k: form.get(k) for k in ("action", "tags", "status", "name_prefix", "note")}
    confirmed = form.get("confirm") == "yes"
    try:
        action, bulk = _bulk_request(form, dry_run=not confirmed)
        result = task_actions.bulk_action(ctx, "start" if action == "start" else "stop", bulk)
    except ApicronError as error:
        return render(request, session, "task_bulk.html", http_status=error.status,
                      nav="tasks", values=values, result=None, error=str(error),
                      statuses=STATUSES)
    if confirmed and not result.failed:
        session.flash("ok", f"{result.changed} task(s) {PAST[action]}.")
        return back(f"{PREFIX}/tasks")
    return render(request, session, "task_bulk.html", nav="tasks", values=values,
                  result=result, error=None, statuses=STATUSES)
