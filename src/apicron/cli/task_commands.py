"""``apicron task``: scheduled tasks (a published API called on a cron or calendar trigger)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import (
    DEFAULT_LIMIT,
    Json,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
    TimezoneOpt,
    YesOpt,
    choice,
    given,
    model,
    require_changes,
)
from apicron.cli.lookup import APIS, APPS, CALENDARS, CHANNELS, TASKS, names_by_id, resolve
from apicron.cli.one_off_inputs import one_off_trigger, scheduling_fields
from apicron.cli.output import note, page_footer, show, table, usage, warn
from apicron.cli.tag_inputs import TagFilterOpt, TagOpt, parse_tags
from apicron.cli.task_inputs import (
    INTERVAL_UNITS,
    alert_rules,
    common_fields,
    content_type,
    merged_request,
    parse_headers,
    parse_query,
    read_body,
    success_conditions,
    trigger,
)
from apicron.domain.vocabulary import (
    MAX_INTERVAL,
    CalendarPolicy,
    ExecutionStatus,
    TaskStatus,
    choices,
)

if TYPE_CHECKING:
    from apicron.client import Client, Execution, Task

cli = typer.Typer(help="Scheduled tasks: call a published API on a schedule.",
                  no_args_is_help=True)

STATUSES = choices(TaskStatus)
EXECUTION_STATUSES = choices(ExecutionStatus)

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
    typer.Option("--interval", metavar="N",
                 help=f"With --every: every N units (1-{MAX_INTERVAL}, default 1)."),
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
    typer.Option("--overlap", help="When the previous run is unfinished: SKIP (default), "
                                   "ALLOW, BUFFER_ONE or CANCEL_PREVIOUS."),
]

# Issue 14: success conditions and alert rules.
SuccessStatusOpt = Annotated[
    str | None, typer.Option("--success-status", metavar="CODES",
                             help="Accepted statuses, e.g. 200-299,304 (default: any 2xx).")]
SuccessJmesOpt = Annotated[
    str | None, typer.Option("--success-jmespath", metavar="EXPR",
                             help="A JMESPath expression over the JSON body that must be true "
                                  "(or equal --success-equals).")]
SuccessEqualsOpt = Annotated[
    str | None, typer.Option("--success-equals", metavar="JSON",
                             help="The JSON value --success-jmespath must equal.")]
SuccessRegexOpt = Annotated[
    str | None, typer.Option("--success-regex", metavar="RE2",
                             help="A regular expression (RE2) the body must match.")]
RetryAssertionOpt = Annotated[
    bool | None, typer.Option("--retry-on-assertion/--no-retry-on-assertion",
                              help="Retry when a body assertion fails (default: no).")]
AlertChannelOpt = Annotated[
    list[str] | None, typer.Option("--alert-channel", metavar="CHANNEL",
                                   help="A channel alerts go to (id or name); repeatable; "
                                        "replaces the list.")]
AlertAfterOpt = Annotated[
    int | None, typer.Option("--alert-after", metavar="N",
                             help="Alert after N consecutive failed executions (default 1).")]
NoFailureAlertOpt = Annotated[
    bool, typer.Option("--no-failure-alert", help="No alert on failures.")]
RecoveryOpt = Annotated[
    bool | None, typer.Option("--alert-on-recovery/--no-alert-on-recovery",
                              help="Alert at the first success after a failure alert "
                                   "(default: yes).")]
MissedOpt = Annotated[
    bool | None, typer.Option("--alert-on-missed/--no-alert-on-missed",
                              help="Alert when occurrences are MISSED or SKIPPED (default: no).")]
NoSuccessOpt = Annotated[
    int | None, typer.Option("--alert-no-success-within", metavar="SECONDS",
                             help="Dead-man: alert when a started task has had no success "
                                  "for this long.")]
AutoStopOpt = Annotated[
    int | None, typer.Option("--auto-stop-after", metavar="N",
                             help="Stop the task after N consecutive failed executions.")]
RepeatOpt = Annotated[
    int | None, typer.Option("--alert-repeat-every", metavar="SECONDS",
                             help="While still failing, alert again at most this often "
                                  "(default 3600, at least 60).")]
# Issue 18: one-off runs, jitter, the task's own call policy (apicron.cli.one_off_inputs).
AtOpt = Annotated[str | None, typer.Option(
    "--at", metavar="WHEN",
    help="A one-off run (trigger AT): RFC 3339, a wall time in the task's zone, or "
         "'in 10 minutes' / 'in 2h'.")]
AfterCompletionOpt = Annotated[str | None, typer.Option(
    "--after-completion", help="After a one-off run: KEEP the task COMPLETED (default) or "
                               "DELETE it (its history is kept).")]
JitterOpt = Annotated[int | None, typer.Option(
    "--jitter", metavar="SECONDS", help="Fire up to SECONDS later than scheduled (0-43200).")]
JitterModeOpt = Annotated[str | None, typer.Option(
    "--jitter-mode", help="RANDOM per occurrence (default) or STABLE per task.")]
TimeoutMsOpt = Annotated[int | None, typer.Option(
    "--timeout-ms", metavar="MS", help="The call's timeout (1-60000; default: the API's).")]
BackoffBaseOpt = Annotated[int | None, typer.Option(
    "--retry-backoff-base-ms", metavar="MS", help="First retry waits up to MS (default 1000).")]
BackoffCapOpt = Annotated[int | None, typer.Option(
    "--retry-backoff-cap-ms", metavar="MS", help="No retry waits longer (default 60000).")]


# Issue 18: business calendars.
CALENDAR_POLICIES = choices(CalendarPolicy)
CalendarOpt = Annotated[
    list[str] | None, typer.Option("--calendar", metavar="CALENDAR",
                                   help="A business calendar the task follows (id or name); "
                                        "repeatable; replaces the list.")]
CalendarPolicyOpt = Annotated[
    str | None, typer.Option("--calendar-policy",
                             help="On a day its calendars exclude: SKIP (default: recorded "
                                  "SKIPPED), NEXT or PREVIOUS (moved to the next / previous "
                                  "included day).")]


def calendar_fields(client: Client, calendars: list[str] | None, policy: str | None,
                    clear: bool = False) -> Json:
    """``calendar_ids`` / ``calendar_policy`` from the flags (only those given)."""
    fields: Json = {}
    if calendars is not None:
        if clear:
            usage("--calendar", "cannot be given with --no-calendars")
        fields["calendar_ids"] = [resolve(client, CALENDARS, c, "--calendar").id
                                  for c in calendars]
    elif clear:
        fields["calendar_ids"] = []
    if policy is not None:
        fields["calendar_policy"] = choice("--calendar-policy", policy, CALENDAR_POLICIES)
    return fields


def _channel_ids(client: Client, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [resolve(client, CHANNELS, v, "--alert-channel").id for v in values]


# --- printing -----------------------------------------------------------------------------


def trigger_text(task: Task) -> str:
    """The TRIGGER column: the cron expression, "every N units" or "at <UTC time>"."""
    if task.trigger_type == "CRON":
        return str(task.cron_expression)
    if task.trigger_type == "AT":
        at = task.run_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if task.run_at else "-"
        return f"at {at}"
    value, unit = task.interval_value or 1, str(task.interval_unit).lower()
    return f"every {value} {unit}{'' if value == 1 else 's'}"


def in_words(when: datetime, now: datetime | None = None) -> str:
    """``2026-01-16T12:00:00Z (in 3 days 2 hours)``."""
    shown = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    seconds = int((when - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return f"{shown} (due now)"
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return f"{shown} (in {' '.join(parts[:2])})"


def schedule_lines(task: Task) -> list[str]:
    """The schedule in words and the next fire time, as ``task start`` prints them."""
    lines = [f"schedule: {task.schedule_description}"]
    if task.next_fire_time is not None:
        lines.append(f"next fire: {in_words(task.next_fire_time)}")
    else:
        hint = "; `apicron task start` schedules it" if task.status != "STARTED" else ""
        lines.append(f"next fire: none (status {task.status}{hint})")
    return lines


def show_task(task: Task) -> None:
    """The task as JSON on stdout; its warnings on stderr."""
    show(task)
    warn(task.schedule_warnings)


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
    success_status: SuccessStatusOpt = None,
    success_jmespath: SuccessJmesOpt = None,
    success_equals: SuccessEqualsOpt = None,
    success_regex: SuccessRegexOpt = None,
    retry_on_assertion: RetryAssertionOpt = None,
    alert_channel: AlertChannelOpt = None,
    alert_after: AlertAfterOpt = None,
    no_failure_alert: NoFailureAlertOpt = False,
    alert_on_recovery: RecoveryOpt = None,
    alert_on_missed: MissedOpt = None,
    alert_no_success_within: NoSuccessOpt = None,
    auto_stop_after: AutoStopOpt = None,
    alert_repeat_every: RepeatOpt = None,
    at: AtOpt = None,
    after_completion: AfterCompletionOpt = None,
    jitter: JitterOpt = None,
    jitter_mode: JitterModeOpt = None,
    timeout_ms: TimeoutMsOpt = None,
    retry_backoff_base_ms: BackoffBaseOpt = None,
    retry_backoff_cap_ms: BackoffCapOpt = None,
    tag: TagOpt = None,
    calendar: CalendarOpt = None,
    calendar_policy: CalendarPolicyOpt = None,
) -> None:
    """Create a task (INITIALIZED: `apicron task start` makes it fire)."""
    from apicron.client import TaskCreate

    if content_type_ is not None and body is None:
        usage("--content-type", "needs --body")
    fields: Json = {
        "name": name,
        **(one_off_trigger(at, cron, every, interval) if at is not None
           else trigger(cron, every, interval, creating=True)),
        **scheduling_fields(after_completion, jitter, jitter_mode, timeout_ms,
                            retry_backoff_base_ms, retry_backoff_cap_ms),
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
    success = success_conditions(None, success_status, success_jmespath, success_equals,
                                 success_regex, retry_on_assertion, clear=False)
    if success is not False:
        fields["success"] = success
    client = connect()
    alerts = alert_rules(None, _channel_ids(client, alert_channel), alert_after,
                         no_failure_alert, alert_on_recovery, alert_on_missed,
                         alert_no_success_within, auto_stop_after, alert_repeat_every,
                         clear=False)
    if alerts is not False:
        fields["alerts"] = alerts
    tags = parse_tags("--tag", tag)
    if tags is not None:
        fields["tags"] = tags
    fields["app_id"] = resolve(client, APPS, app, "--app").id
    fields["api_id"] = resolve(client, APIS, api, "--api").id
    fields.update(calendar_fields(client, calendar, calendar_policy))
    show_task(client.create_task(model(TaskCreate, fields)))


@cli.command("list")
def task_list(
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")
    ] = None,
    app: Annotated[str | None, typer.Option("--app", help="The task's app (id or name).")] = None,
    api: Annotated[str | None, typer.Option("--api", help="The API it calls (id or name).")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", help="Also show ids, time zone and API.")
    ] = False,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
    tag: TagFilterOpt = None,
) -> None:
    """List tasks with their trigger, next fire time, tags and stop note."""
    wanted_status = choice("--status", status, STATUSES)
    client = connect()
    page = client.list_tasks(
        name=name,
        status=wanted_status,
        app_id=None if app is None else resolve(client, APPS, app, "--app").id,
        api_id=None if api is None else resolve(client, APIS, api, "--api").id,
        offset=offset,
        limit=limit,
        tags=parse_tags("--tag", tag),
    )
    if as_json:
        show(page)
        return
    apps = names_by_id(client, APPS, (t.app_id for t in page.items))
    apis = names_by_id(client, APIS, (t.api_id for t in page.items)) if wide else {}
    rows = [
        {**t.model_dump(mode="json"), "trigger": trigger_text(t),
         "app": apps.get(t.app_id, t.app_id), "api": apis.get(t.api_id, t.api_id),
         "tags": ",".join(f"{k}={v}" for k, v in sorted(t.tags.items())) or None,
         "note": t.stop_reason}
        for t in page.items
    ]
    columns = ["name", "status", "trigger", "next_fire_time", "app", "tags", "note"]
    if wide:
        columns = ["name", "id", "status", "trigger", "timezone", "next_fire_time", "app", "api",
                   "tags", "note"]
    table(rows, columns)
    page_footer(page.total, len(page.items), offset)


@cli.command("show")
def task_show(task: TaskArg) -> None:
    """Print a task as JSON; its schedule in words, next fire time and any warnings about
    its trigger go to stderr."""
    found = resolve(connect(), TASKS, task, "TASK")
    show(found)
    for line in schedule_lines(found):
        note(line)
    warn(found.schedule_warnings)


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
    success_status: SuccessStatusOpt = None,
    success_jmespath: SuccessJmesOpt = None,
    success_equals: SuccessEqualsOpt = None,
    success_regex: SuccessRegexOpt = None,
    retry_on_assertion: RetryAssertionOpt = None,
    no_success: Annotated[
        bool, typer.Option("--no-success", help="Clear the success conditions (any 2xx).")
    ] = False,
    alert_channel: AlertChannelOpt = None,
    alert_after: AlertAfterOpt = None,
    no_failure_alert: NoFailureAlertOpt = False,
    alert_on_recovery: RecoveryOpt = None,
    alert_on_missed: MissedOpt = None,
    alert_no_success_within: NoSuccessOpt = None,
    auto_stop_after: AutoStopOpt = None,
    alert_repeat_every: RepeatOpt = None,
    no_alerts: Annotated[
        bool, typer.Option("--no-alerts", help="Clear the task's alert rules (the "
                                               "instance's default rules apply).")
    ] = False,
    at: AtOpt = None,
    after_completion: AfterCompletionOpt = None,
    jitter: JitterOpt = None,
    jitter_mode: JitterModeOpt = None,
    timeout_ms: TimeoutMsOpt = None,
    no_timeout: Annotated[
        bool, typer.Option("--no-timeout", help="Clear the task's timeout (the API's applies).")
    ] = False,
    retry_backoff_base_ms: BackoffBaseOpt = None,
    retry_backoff_cap_ms: BackoffCapOpt = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", metavar="KEY=VALUE",
                                       help="Add or change a tag; repeatable.")
    ] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", metavar="KEY",
                                       help="Remove a tag; repeatable.")
    ] = None,
    no_tags: Annotated[bool, typer.Option("--no-tags", help="Remove every tag.")] = False,
    calendar: CalendarOpt = None,
    calendar_policy: CalendarPolicyOpt = None,
    no_calendars: Annotated[
        bool, typer.Option("--no-calendars", help="Follow no business calendar.")
    ] = False,
) -> None:
    """Change the given fields of a task (refused while STARTED: stop it first)."""
    from apicron.client import TaskUpdate

    for flag, value, clear, clear_flag in (
        ("--end-time", end_time, no_end_time, "--no-end-time"),
        ("--header", header, no_headers, "--no-headers"),
        ("--query", query, no_query, "--no-query"),
        ("--body", body, no_body, "--no-body"),
        ("--content-type", content_type_, no_body, "--no-body"),
        ("--timeout-ms", timeout_ms, no_timeout, "--no-timeout"),
    ):
        if value is not None and clear:
            usage(flag, f"cannot be given with {clear_flag}")
    fields: Json = {
        **given(name=name),
        **(one_off_trigger(at, cron, every, interval) if at is not None
           else trigger(cron, every, interval, creating=False)),
        **scheduling_fields(after_completion, jitter, jitter_mode, timeout_ms,
                            retry_backoff_base_ms, retry_backoff_cap_ms),
        **common_fields(description, effective_time, end_time, timezone, max_retries,
                        misfire, overlap),
    }
    if no_end_time:
        fields["end_time"] = None
    if no_timeout:
        fields["timeout_ms"] = None
    if cron is not None or every is not None:
        fields["run_at"] = None  # leaving a one-off trigger (issue 18)
    headers = parse_headers(header) if header is not None else None
    params = parse_query(query) if query is not None else None
    new_body = read_body(body) if body is not None else None
    new_type = content_type(content_type_)
    request_changed = any(
        x is not None for x in (headers, params, new_body, new_type)
    ) or no_headers or no_query or no_body
    alerting_changed = no_success or no_alerts or no_failure_alert or any(
        v is not None for v in (success_status, success_jmespath, success_equals,
                                success_regex, retry_on_assertion, alert_channel, alert_after,
                                alert_on_recovery, alert_on_missed, alert_no_success_within,
                                auto_stop_after, alert_repeat_every))
    alerting_changed = alerting_changed or no_calendars or any(
        v is not None for v in (calendar, calendar_policy))
    new_tags = parse_tags("--tag", tag)
    tags_changed = new_tags is not None or untag is not None or no_tags
    if (not request_changed and app is None and api is None and not alerting_changed
            and not tags_changed):
        require_changes(fields)

    client = connect()
    current = resolve(client, TASKS, task, "TASK")
    success = success_conditions(
        None if current.success is None else current.success.model_dump(mode="json"),
        success_status, success_jmespath, success_equals, success_regex, retry_on_assertion,
        clear=no_success)
    if success is not False:
        fields["success"] = success
    alerts = alert_rules(
        None if current.alerts is None else current.alerts.model_dump(mode="json"),
        _channel_ids(client, alert_channel), alert_after, no_failure_alert, alert_on_recovery,
        alert_on_missed, alert_no_success_within, auto_stop_after, alert_repeat_every,
        clear=no_alerts)
    if alerts is not False:
        fields["alerts"] = alerts
    if app is not None:
        fields["app_id"] = resolve(client, APPS, app, "--app").id
    if api is not None:
        fields["api_id"] = resolve(client, APIS, api, "--api").id
    if tags_changed:
        kept = {} if no_tags else dict(current.tags)
        for key in untag or []:
            kept.pop(key, None)
        fields["tags"] = {**kept, **(new_tags or {})}
    if request_changed:
        fields["request"] = merged_request(
            current.request.model_dump(mode="json"), headers, no_headers, params, no_query,
            new_body, no_body, new_type,
        )
    fields.update(calendar_fields(client, calendar, calendar_policy, no_calendars))
    show_task(client.update_task(current.id, model(TaskUpdate, fields)))


@cli.command("start")
def task_start(task: TaskArg, as_json: JsonOpt = False) -> None:
    """Start (or resume) a task: it fires on schedule from now on. Prints its schedule in
    words and its next fire time (--json: the task)."""
    client = connect()
    started = client.start_task(resolve(client, TASKS, task, "TASK").id)
    if as_json:
        show(started)
    else:
        for line in schedule_lines(started):
            typer.echo(line)
    warn(started.schedule_warnings)


@cli.command("stop")
def task_stop(
    task: TaskArg,
    stop_note: Annotated[
        str | None, typer.Option("--note", help="Why, e.g. 'paused: backend migration until "
                                                "Friday' (shown in the list until started).")
    ] = None,
) -> None:
    """Stop a task: it no longer fires (start resumes it)."""
    client = connect()
    show(client.stop_task(resolve(client, TASKS, task, "TASK").id, stop_note))


@cli.command("delete")
def task_delete(task: TaskArg, yes: YesOpt = False) -> None:
    """Delete a task (refused while STARTED: stop it first)."""
    client = connect()
    found = resolve(client, TASKS, task, "TASK")
    if not yes:
        typer.confirm(f"Delete task {found.name!r}?", abort=True, err=True)
    client.delete_task(found.id)
    note(f"deleted scheduled task {found.name!r} ({found.id})")


# --- task runs ------------------------------------------------------------------------------


@cli.command("run")
def task_run(task: TaskArg) -> None:
    """Run a task once now (trigger MANUAL), whatever its state."""
    client = connect()
    show(client.run_task(resolve(client, TASKS, task, "TASK").id))


# MESSAGE: why a run did not run or failed (error_msg), else how it came to run as it did
# (note: "run 20 s late: apicron was not running at its time", a backfill's range).
RUN_COLUMNS = ["scheduled_at", "trigger", "status", "tries", "http", "error", "id", "message"]
# With --attempts: each execution's attempts below it, every value under the column that
# means the same thing for both rows; what only attempts have gets its own column.
ATTEMPT_COLUMNS = [
    "scheduled_at", "trigger", "status", "tries", "http", "error", "duration", "id", "message"
]


def _run_row(execution: Execution) -> dict[str, Any]:
    last = execution.attempts[-1] if execution.attempts else None
    duration = None
    if execution.started_at and execution.finished_at:
        millis = (execution.finished_at - execution.started_at).total_seconds() * 1000
        duration = f"{round(millis)} ms"
    return {
        **execution.model_dump(mode="json"),
        "tries": len(execution.attempts),
        "http": last.http_status if last else None,
        "error": execution.error_kind,
        "duration": duration,
        "message": execution.error_msg or execution.note,
    }


def _attempt_rows(execution: Execution) -> list[dict[str, Any]]:
    return [
        {
            "scheduled_at": f"  attempt {a.number}",
            "trigger": "",
            "status": "FAILED" if a.error_kind else "SUCCEEDED",
            "tries": "",
            "http": a.http_status,
            "error": a.error_kind,
            "duration": f"{a.duration_ms} ms",
            "id": "",
            "message": a.error_msg,
        }
        for a in execution.attempts
    ]


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
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """A task's executions, newest first: when, how it was triggered, what happened."""
    wanted_status = choice("--status", status, EXECUTION_STATUSES)
    client = connect()
    found = resolve(client, TASKS, task, "TASK")
    page = client.list_executions(found.id, status=wanted_status, since=since, until=until,
                                  offset=offset, limit=limit)
    if as_json:
        show(page)
        return
    rows = []
    for execution in page.items:
        rows.append(_run_row(execution))
        if attempts:
            rows.extend(_attempt_rows(execution))
    table(rows, ATTEMPT_COLUMNS if attempts else RUN_COLUMNS)
    page_footer(page.total, len(page.items), offset)
