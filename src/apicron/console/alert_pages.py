"""Alerts (issue 14): notification channels (create, test, delete) and the alert history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from apicron.console.web import (
    PREFIX,
    Answer,
    Ctx,
    FormDep,
    SessionDep,
    act,
    back,
    refused,
    render,
)
from apicron.domain.alerting import ChannelCreate
from apicron.domain.errors import ApicronError
from apicron.domain.validation import validate
from apicron.domain.vocabulary import AlertEventKind, AlertStatus, choices
from apicron.services import alerts, channels, tasks

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ALL = 500
EVENTS = choices(AlertEventKind)
STATUSES = choices(AlertStatus)


def _channels_page(request: Request, session: SessionDep, ctx: Ctx, *, values: dict[str, str],
                   errors: dict[str, str], status: int = 200) -> HTMLResponse:
    page = channels.list_channels(ctx, kind=None, offset=0, limit=ALL)
    return render(request, session, "channels.html", http_status=status, nav="channels",
                  channels=page.items, total=page.total, values=values, errors=errors,
                  reveal=session.pop_reveal())


@router.get("/channels")
def channels_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    return _channels_page(request, session, ctx, values={"kind": "webhook"}, errors={})


@router.post("/channels")
def create_channel(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    if away := refused(session, "CHANNELS", f"{PREFIX}/channels"):
        return away
    values = {"name": form.get("name").strip(), "kind": form.get("kind"),
              "url": form.get("url").strip(), "description": form.get("description")}
    try:
        created = channels.create_channel(ctx, validate(ChannelCreate, values))
    except ApicronError as error:
        shown = {"form": str(error)}
        for problem in error.problems:
            if problem.field in ("name", "kind", "url", "description"):
                shown[problem.field] = problem.rule
        # The URL is a credential: not echoed back into the page.
        return _channels_page(request, session, ctx, values={**values, "url": ""},
                              errors=shown, status=error.status)
    if created.secret:
        session.reveal = {"name": created.name, "secret": created.secret, "why": "channel"}
    session.flash("ok", f"Channel {created.name} created.")
    return back(f"{PREFIX}/channels")


@router.post("/channels/{channel_id}/test")
def send_test_message(channel_id: str, session: SessionDep, _form: FormDep,
                 ctx: Ctx) -> RedirectResponse:
    try:
        name = channels.get_channel(ctx, channel_id).name
        result = channels.test_channel(ctx, channel_id)
    except ApicronError as error:
        session.flash("error", str(error))
    else:
        if result.ok:
            session.flash("ok", f"Test message sent to {name} ({result.duration_ms} ms).")
        else:
            session.flash("error", f"Test message to {name} not delivered: {result.error}")
    return back(f"{PREFIX}/channels")


@router.post("/channels/{channel_id}/delete")
def delete_channel(channel_id: str, session: SessionDep, _form: FormDep,
                   ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        name = channels.get_channel(ctx, channel_id).name
        channels.delete_channel(ctx, channel_id)
        return f"Channel {name} deleted."

    return act(session, f"{PREFIX}/channels", delete, "Not deleted: ")


@router.get("/alerts")
def alerts_page(request: Request, session: SessionDep, ctx: Ctx, task_id: str = "",
                event: str = "", status: str = "") -> HTMLResponse:
    wanted_event: AlertEventKind | None = event if event in EVENTS else None  # type: ignore[assignment]
    wanted_status: AlertStatus | None = status if status in STATUSES else None  # type: ignore[assignment]
    page = alerts.list_alerts(ctx, task_id=task_id or None, status=wanted_status,
                              event=wanted_event, channel_id=None, offset=0, limit=ALL)
    names = {c.id: c.name for c in channels.list_channels(ctx, kind=None, offset=0,
                                                         limit=ALL).items}
    task_names = {t.id: t.name for t in tasks.list_tasks(
        ctx, name=None, status=None, app_id=None, api_id=None, offset=0, limit=ALL).items}
    return render(request, session, "alerts.html", nav="alerts", alerts=page.items,
                  total=page.total, channel_names=names, task_names=task_names,
                  task_id=task_id, event=wanted_event or "", status=wanted_status or "",
                  events=EVENTS, statuses=STATUSES)
