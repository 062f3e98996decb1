"""``apicron alert``: the alerts sent (or being sent) and how their delivery went."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import DEFAULT_LIMIT, JsonOpt, LimitOpt, OffsetOpt, choice
from apicron.cli.lookup import CHANNELS, TASKS, resolve_id
from apicron.cli.output import page_footer, show, table
from apicron.domain.vocabulary import AlertEventKind, AlertStatus, choices

cli = typer.Typer(help="Alerts: events sent to channels, with their delivery.",
                  no_args_is_help=True)

EVENTS = choices(AlertEventKind)
STATUSES = choices(AlertStatus)


@cli.command("list")
def alert_list(
    task: Annotated[str | None, typer.Option("--task", help="A task (id or name).")] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="A channel (id or name).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")] = None,
    event: Annotated[
        str | None, typer.Option("--event", help=f"One of {', '.join(EVENTS)}.")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """Alert events, newest first: what happened, where it was sent, and whether it was."""
    wanted_status = choice("--status", status, STATUSES)
    wanted_event = choice("--event", event, EVENTS)
    client = connect()
    page = client.list_alerts(
        task_id=resolve_id(client, TASKS, task, "--task"),
        channel_id=resolve_id(client, CHANNELS, channel, "--channel"),
        status=wanted_status, event=wanted_event, offset=offset, limit=limit,
    )
    if as_json:
        show(page)
        return
    table([{**a.model_dump(mode="json"), "task": a.task_name, "error": a.last_error}
           for a in page.items],
          ["created_at", "event", "task", "status", "attempts", "channel_kind", "error"])
    page_footer(page.total, len(page.items), offset)
