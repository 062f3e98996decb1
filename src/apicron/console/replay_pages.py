"""Console: replay an execution, backfill a task over a past range (issue 18).

A backfill is asked for twice: the form first answers a dry run (how many occurrences,
first and last, how many left alone), and only the confirmation queues them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from apicron.console.web import (
    PREFIX,
    Answer,
    Ctx,
    FormDep,
    SessionDep,
    back,
    refused,
    render,
)
from apicron.domain.backfill import BackfillRequest, BackfillResult
from apicron.domain.errors import ApicronError
from apicron.domain.validation import validate
from apicron.services import backfill, executions, tasks

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.post("/executions/{execution_id}/replay")
def replay_execution(
    execution_id: str, session: SessionDep, _form: FormDep, ctx: Ctx
) -> RedirectResponse:
    try:
        original = executions.get_execution(ctx, execution_id)
        backfill.replay_execution(ctx, execution_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    session.flash("ok", "Replay queued: a new execution of the same occurrence appears "
                        "below within a second.")
    return back(f"{PREFIX}/tasks/{original.task_id}/history")


def _page(request: Request, session: SessionDep, ctx: Ctx, task_id: str,
          **values: Any) -> Answer:
    try:
        task = tasks.get_task(ctx, task_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/tasks")
    values.setdefault("form", {"mode": "SEQUENTIAL"})
    return render(request, session, "backfill.html", nav="tasks", task=task, **values)


@router.get("/tasks/{task_id}/backfill")
def backfill_page(request: Request, session: SessionDep, ctx: Ctx, task_id: str) -> Answer:
    if away := refused(session, "TASKS", f"{PREFIX}/tasks/{task_id}"):
        return away
    return _page(request, session, ctx, task_id)


@router.post("/tasks/{task_id}/backfill")
def backfill_task(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, task_id: str
) -> Answer:
    fields = {"from": form.get("from").strip(), "to": form.get("to").strip(),
              "mode": form.get("mode") or "SEQUENTIAL",
              "rerun_succeeded": form.get("rerun_succeeded") == "on"}
    confirmed = form.get("confirmed") == "yes"
    try:
        spec = validate(BackfillRequest, {**fields, "dry_run": not confirmed})
        result: BackfillResult = backfill.backfill_task(ctx, task_id, spec)
    except ApicronError as error:
        return _page(request, session, ctx, task_id, form=fields, error=str(error),
                     http_status=400 if error.status == 400 else error.status)
    if not confirmed:
        return _page(request, session, ctx, task_id, form=fields, plan=result)
    session.flash("ok", f"Backfill queued: {result.queued} executions.")
    return back(f"{PREFIX}/tasks/{task_id}/history")
