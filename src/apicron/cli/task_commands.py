"""``apicron task``: scheduled tasks (a published API called on a cron or calendar trigger)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from apicron.cli.output import show, table
from apicron.cli.resources import (
    APIS,
    APPS,
    TASKS,
    Json,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
    YesOpt,
    act,
    choice,
    connect,
    given,
    list_page,
    names_by_id,
    note,
    page_footer,
    require_changes,
    resolve,
    resolve_id,
    usage,
)

cli = typer.Typer(help="Scheduled tasks: call a published API on a schedule.",
                  no_args_is_help=True)

INTERVAL_UNITS = ("MINUTE", "HOUR", "DAY", "WEEK", "MONTH")
STATUSES = ("INITIALIZED", "STARTED", "STOPPED")
MISFIRE_POLICIES = ("RUN_ONCE", "SKIP")
OVERLAP_POLICIES = ("SKIP", "ALLOW")
CONTENT_TYPES = ("application/json", "application/xml", "application/text")

TaskArg = Annotated[str, typer.Argument(metavar="TASK", help="The task's id or name.")]
CronOpt = Annotated[
    str | None,
    typer.Option("--cron", metavar="EXPR",
                 help="Cron trigger: Quartz 'sec min hour dom month dow (year)' or 5-field Unix."),
]
EveryOpt = Annotated[
    str | None,
    typer.Option("--every", metavar="UNIT",
                 help=f"Calendar trigger unit: {', '.join(INTERVAL_UNITS)}."),
]
IntervalOpt = Annotated[
    int | None,
    typer.Option("--interval", metavar="N", help="With --every: every N units (1-59, default 1)."),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Up to 255 characters.")]
EffectiveOpt = Annotated[
    str | None,
    typer.Option("--effective-time", metavar="T",
                 help="Nothing fires before T (RFC 3339; without an offset: in --timezone). "
                      "Default: now."),
]
EndOpt = Annotated[
    str | None, typer.Option("--end-time", metavar="T", help="Nothing fires after T.")
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", metavar="ZONE",
                 help="IANA zone the trigger runs in (default: the instance's)."),
]
RetriesOpt = Annotated[
    int | None, typer.Option("--max-retries", metavar="N", help="Retries after a failure (0-3).")
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option("--header", metavar="'NAME: VALUE'", help="Request header; repeatable."),
]
QueryOpt = Annotated[
    list[str] | None,
    typer.Option("--query", metavar="NAME=VALUE",
                 help="Query parameter; repeatable (a name may repeat)."),
]
BodyOpt = Annotated[
    str | None,
    typer.Option("--body", metavar="TEXT|@FILE",
                 help="Request body (POST, PUT, PATCH APIs), or @FILE to read it from a file."),
]
ContentTypeOpt = Annotated[
    str | None,
    typer.Option("--content-type",
                 help="Body type: application/json (default), application/xml, "
                      "application/text (or json, xml, text)."),
]
MisfireOpt = Annotated[
    str | None,
    typer.Option("--misfire", help="Occurrences missed while down: RUN_ONCE (default) or SKIP."),
]
OverlapOpt = Annotated[
    str | None,
    typer.Option("--overlap", help="When the previous run is unfinished: SKIP (default) or ALLOW."),
]


# --- local input --------------------------------------------------------------------------


def parse_headers(values: list[str]) -> list[Json]:
    headers = []
    for value in values:
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            usage("--header", f"expected 'Name: value' (got {value!r})")
        headers.append({"name": name.strip(), "value": rest.strip()})
    return headers


def parse_query(values: list[str]) -> list[Json]:
    query = []
    for value in values:
        name, equals, rest = value.partition("=")
        if not equals or not name:
            usage("--query", f"expected 'name=value' (got {value!r})")
        query.append({"name": name, "value": rest})
    return query


def read_body(value: str) -> str:
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        usage("--body", f"cannot read {str(path)!r}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        usage("--body", f"{str(path)!r} is not UTF-8 text")


def content_type(value: str | None) -> str | None:
    if value is None:
        return None
    full = value if "/" in value else f"application/{value}"
    if full.lower() not in CONTENT_TYPES:
        usage("--content-type", f"must be one of {', '.join(CONTENT_TYPES)} (got {value!r})")
    return full.lower()


def trigger(cron: str | None, every: str | None, interval: int | None, *, creating: bool) -> Json:
    """The trigger fields; the other trigger's fields are sent as null (cleared)."""
    if cron is not None and every is not None:
        usage("--cron/--every", "give one trigger, not both")
    if cron is not None:
        if interval is not None:
            usage("--interval", "goes with --every, not --cron")
        return {"trigger_type": "CRON", "cron_expression": cron,
                "interval_unit": None, "interval_value": None}
    if every is not None:
        return {"trigger_type": "CALENDAR", "cron_expression": None,
                "interval_unit": choice("--every", every, INTERVAL_UNITS),
                "interval_value": interval}
    if creating:
        if interval is not None:
            usage("--interval", "needs --every UNIT")
        usage("--cron/--every", "give a trigger: --cron EXPR or --every UNIT [--interval N]")
    # Updating only the interval of a calendar task.
    return given(interval_value=interval)


def common_fields(
    description: str | None, effective_time: str | None, end_time: str | None,
    timezone: str | None, max_retries: int | None, misfire: str | None, overlap: str | None,
) -> Json:
    return given(
        description=description,
        effective_time=effective_time,
        end_time=end_time,
        timezone=timezone,
        max_retries=max_retries,
        misfire_policy=choice("--misfire", misfire, MISFIRE_POLICIES),
        overlap_policy=choice("--overlap", overlap, OVERLAP_POLICIES),
    )


# --- printing -----------------------------------------------------------------------------


def trigger_text(task: Json) -> str:
    if task["trigger_type"] == "CRON":
        return str(task["cron_expression"])
    value, unit = task["interval_value"] or 1, str(task["interval_unit"]).lower()
    return f"every {value} {unit}{'' if value == 1 else 's'}"


def in_words(when: str, now: datetime | None = None) -> str:
    """``2026-01-16T12:00:00Z (in 3 days 2 hours)``."""
    at = datetime.fromisoformat(when)
    seconds = int((at - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return f"{when} (due now)"
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return f"{when} (in {' '.join(parts[:2])})"


def schedule_note(task: Json) -> None:
    """The schedule in words, on stderr (stdout stays the JSON object)."""
    note(f"schedule: {task['schedule_description']}")
    if task.get("next_fire_time"):
        note(f"next fire: {in_words(task['next_fire_time'])}")
    else:
        hint = "; `apicron task start` schedules it" if task["status"] != "STARTED" else ""
        note(f"next fire: none (status {task['status']}{hint})")


# --- commands -----------------------------------------------------------------------------


@cli.command("create")
def task_create(
    name: NameArg,
    app: Annotated[str, typer.Option("--app", help="The app the task calls as (id or name).")],
    api: Annotated[str, typer.Option("--api", help="The published API it calls (id or name).")],
    cron: CronOpt = None,
    every: EveryOpt = None,
    interval: IntervalOpt = None,
    description: DescriptionOpt = None,
    effective_time: EffectiveOpt = None,
    end_time: EndOpt = None,
    timezone: TimezoneOpt = None,
    max_retries: RetriesOpt = None,
    header: HeaderOpt = None,
    query: QueryOpt = None,
    body: BodyOpt = None,
    content_type_: ContentTypeOpt = None,
    misfire: MisfireOpt = None,
    overlap: OverlapOpt = None,
) -> None:
    """Create a task (INITIALIZED: `apicron task start` makes it fire)."""
    if content_type_ is not None and body is None:
        usage("--content-type", "needs --body")
    fields: Json = {
        "name": name,
        **trigger(cron, every, interval, creating=True),
        **common_fields(description, effective_time, end_time, timezone, max_retries,
                        misfire, overlap),
        "request": {
            "headers": parse_headers(header or []),
            "query": parse_query(query or []),
            "body": None if body is None else {
                "content_type": content_type(content_type_) or "application/json",
                "content": read_body(body),
            },
        },
    }
    client = connect()
    fields["app_id"] = resolve_id(client, APPS, app, "--app")
    fields["api_id"] = resolve_id(client, APIS, api, "--api")
    show(client.call("POST", TASKS.path, json=fields))


@cli.command("list")
def task_list(
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")
    ] = None,
    app: Annotated[str | None, typer.Option("--app", help="The task's app (id or name).")] = None,
    api: Annotated[str | None, typer.Option("--api", help="The API it calls (id or name).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = 20,
) -> None:
    """List tasks with their trigger and next fire time."""
    status = choice("--status", status, STATUSES)
    client = connect()
    params = given(
        name=name,
        status=status,
        app_id=resolve_id(client, APPS, app, "--app"),
        api_id=resolve_id(client, APIS, api, "--api"),
    )
    page = list_page(client, TASKS.path, params, offset, limit)
    if as_json:
        show(page)
        return
    apps = names_by_id(client, APPS, (t["app_id"] for t in page["items"]))
    rows = [
        {**t, "trigger": trigger_text(t), "app": apps.get(t["app_id"], t["app_id"])}
        for t in page["items"]
    ]
    table(rows, ["name", "status", "trigger", "next_fire_time", "app"])
    page_footer(page, offset)


@cli.command("show")
def task_show(task: TaskArg) -> None:
    """Print a task as JSON; its schedule in words and next fire time go to stderr."""
    found = resolve(connect(), TASKS, task, "TASK")
    show(found)
    schedule_note(found)


@cli.command("update")
def task_update(
    task: TaskArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    app: Annotated[str | None, typer.Option("--app", help="App (id or name).")] = None,
    api: Annotated[str | None, typer.Option("--api", help="Published API (id or name).")] = None,
    cron: CronOpt = None,
    every: EveryOpt = None,
    interval: IntervalOpt = None,
    description: DescriptionOpt = None,
    effective_time: EffectiveOpt = None,
    end_time: EndOpt = None,
    no_end_time: Annotated[
        bool, typer.Option("--no-end-time", help="Clear the end time.")
    ] = False,
    timezone: TimezoneOpt = None,
    max_retries: RetriesOpt = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", metavar="'NAME: VALUE'",
                     help="Request header; repeatable; replaces all headers."),
    ] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Remove all headers.")] = False,
    query: Annotated[
        list[str] | None,
        typer.Option("--query", metavar="NAME=VALUE",
                     help="Query parameter; repeatable; replaces all parameters."),
    ] = None,
    no_query: Annotated[
        bool, typer.Option("--no-query", help="Remove all query parameters.")
    ] = False,
    body: BodyOpt = None,
    no_body: Annotated[bool, typer.Option("--no-body", help="Remove the body.")] = False,
    content_type_: ContentTypeOpt = None,
    misfire: MisfireOpt = None,
    overlap: OverlapOpt = None,
) -> None:
    """Change the given fields of a task (refused while STARTED: stop it first)."""
    for flag, value, clear, clear_flag in (
        ("--end-time", end_time, no_end_time, "--no-end-time"),
        ("--header", header, no_headers, "--no-headers"),
        ("--query", query, no_query, "--no-query"),
        ("--body", body, no_body, "--no-body"),
        ("--content-type", content_type_, no_body, "--no-body"),
    ):
        if value is not None and clear:
            usage(flag, f"cannot be given with {clear_flag}")
    fields: Json = {
        **given(name=name),
        **trigger(cron, every, interval, creating=False),
        **common_fields(description, effective_time, end_time, timezone, max_retries,
                        misfire, overlap),
    }
    if no_end_time:
        fields["end_time"] = None
    headers = parse_headers(header) if header is not None else None
    params = parse_query(query) if query is not None else None
    new_body = read_body(body) if body is not None else None
    new_type = content_type(content_type_)
    request_changed = any(
        x is not None for x in (headers, params, new_body, new_type)
    ) or no_headers or no_query or no_body
    if not request_changed and app is None and api is None:
        require_changes(fields)

    client = connect()
    current = resolve(client, TASKS, task, "TASK")
    if app is not None:
        fields["app_id"] = resolve_id(client, APPS, app, "--app")
    if api is not None:
        fields["api_id"] = resolve_id(client, APIS, api, "--api")
    if request_changed:
        fields["request"] = _merged_request(
            current["request"], headers, no_headers, params, no_query, new_body, no_body,
            new_type,
        )
    show(client.call("PUT", f"{TASKS.path}/{current['id']}", json=fields))


def _merged_request(
    current: Json, headers: list[Json] | None, no_headers: bool, query: list[Json] | None,
    no_query: bool, body: str | None, no_body: bool, content_type: str | None,
) -> Json:
    """The task's request with the given parts replaced (the API replaces it whole)."""
    old_body: Json | None = current.get("body")
    new_body: Json | None
    if no_body:
        new_body = None
    elif body is not None:
        kept = old_body["content_type"] if old_body else "application/json"
        new_body = {"content_type": content_type or kept, "content": body}
    elif content_type is not None:
        if old_body is None:
            usage("--content-type", "the task has no body; give --body too")
        new_body = {**old_body, "content_type": content_type}
    else:
        new_body = old_body
    return {
        "headers": [] if no_headers else headers if headers is not None else current["headers"],
        "query": [] if no_query else query if query is not None else current["query"],
        "body": new_body,
    }


@cli.command("start")
def task_start(task: TaskArg) -> None:
    """Start (or resume) a task: it fires on schedule from now on."""
    started = act(TASKS, task, "TASK", "start")
    show(started)
    schedule_note(started)


@cli.command("stop")
def task_stop(task: TaskArg) -> None:
    """Stop a task: it no longer fires (start resumes it)."""
    show(act(TASKS, task, "TASK", "stop"))


@cli.command("delete")
def task_delete(task: TaskArg, yes: YesOpt = False) -> None:
    """Delete a task (refused while STARTED: stop it first)."""
    client = connect()
    found = resolve(client, TASKS, task, "TASK")
    if not yes:
        typer.confirm(f"Delete task {found['name']!r}?", abort=True, err=True)
    client.call("DELETE", f"{TASKS.path}/{found['id']}")
    note(f"deleted scheduled task {found['name']!r} ({found['id']})")


# --- task runs ------------------------------------------------------------------------------

EXECUTION_STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "MISSED")


@cli.command("run")
def task_run(task: TaskArg) -> None:
    """Run a task once now (trigger MANUAL), whatever its state."""
    show(act(TASKS, task, "TASK", "run"))


@cli.command("runs")
def task_runs(
    task: TaskArg,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(EXECUTION_STATUSES)}.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Scheduled at or after (RFC 3339).")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Scheduled before (RFC 3339).")] = None,
    attempts: Annotated[
        bool, typer.Option("--attempts", help="Also list each execution's attempts.")
    ] = False,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = 20,
) -> None:
    """A task's executions, newest first: when, how it was triggered, what happened."""
    status = choice("--status", status, EXECUTION_STATUSES)
    client = connect()
    found = resolve(client, TASKS, task, "TASK")
    params = given(status=status, **{"from": since, "to": until})
    page = list_page(client, f"{TASKS.path}/{found['id']}/executions", params, offset, limit)
    if as_json:
        show(page)
        return
    rows = []
    for execution in page["items"]:
        last = execution["attempts"][-1] if execution["attempts"] else {}
        rows.append(
            {
                **execution,
                "tries": len(execution["attempts"]),
                "http": last.get("http_status"),
                "error": execution.get("error_kind"),
            }
        )
        if attempts:
            rows.extend(
                {
                    "scheduled_at": f"  attempt {a['number']}",
                    "status": f"{a['duration_ms']} ms",
                    "http": a["http_status"],
                    "error": a["error_kind"],
                    "error_msg": a["error_msg"],
                }
                for a in execution["attempts"]
            )
    table(rows, ["scheduled_at", "trigger", "status", "tries", "http", "error", "id"])
    page_footer(page, offset)
