"""What the OpenAPI document says about each field and parameter, in one place.

Most field names mean the same thing wherever they appear (``id``, ``app_id``,
``created_at``, a task's trigger fields in create, update, answer and preview), so a field is
described once by its name; ``"Schema.field"`` says it differently for one schema. A
description given in the model itself (``Field(description=...)``) wins. A test checks that
every property and parameter of the document has a description, so a new field needs its
line here (or in its model).
"""

from __future__ import annotations

from typing import Any

from apicron.triggers.schedule import MAX_INTERVAL

_VARIABLES = (
    "{{scheduled_time}} (RFC 3339 UTC), {{scheduled_time_unix}}, {{execution_id}}, "
    "{{attempt}}, {{task_name}}, {{window_start}} (the trigger's previous occurrence; for "
    "the first, the effective time) and {{window_end}} (the scheduled time); an unknown "
    "placeholder or an unclosed {{ is refused (400)."
)

API_DESCRIPTION = """\
Management API of apicron, the self-hosted API scheduler with its own API gateway.

**Auth.** Every operation but the probes (`/livez`, `/readyz`, `/healthz`) needs
`Authorization: Bearer <token>`: the admin token (root: `APICRON_ADMIN_TOKEN`, or generated
at first start into the data directory), or a user's API token (`POST
/v1/users/{user_id}/tokens`). Each operation names the role it needs (`x-apicron-role`:
viewer, operator or admin); a role below it is answered 403.

**Errors.** `{"error_code", "error_msg", "field", "errors"}` with 400 invalid input (the
message names the field and the rule; nothing changed), 401 no or bad token, 404 unknown id,
409 state or name conflict, 413 too large, 415 not JSON.

**Lists.** `{"total": n, "items": [...]}` with `offset`, `limit` (1-500, default 20) and
filters.

**PUT changes only the fields given.** A field left out keeps its value; a field given as
`null` clears an optional field (e.g. a task's `end_time`). There is no PATCH.

**Times** are RFC 3339 text (`2026-01-01T09:00:00Z`); a time without an offset is a wall
time in the task's time zone. Answers are in UTC.
"""

_RESOURCE_ID = "Its id (32 hexadecimal characters, generated)."
_TASK_TRIGGER = ("CRON (cron_expression), CALENDAR (interval_unit + interval_value) or AT "
                 "(run_at: once).")

FIELDS: dict[str, str] = {
    # identity and bookkeeping
    "id": _RESOURCE_ID,
    "name": "Its name: 3-64 characters, a letter first, then letters, digits, '_' and '-'; "
            "unique among its kind.",
    "description": "Free text, at most 255 characters.",
    "created_at": "When it was created (UTC).",
    "updated_at": "When it last changed (UTC).",
    "total": "How many items match the filters (all pages).",
    "items": "This page of items.",
    # users, tokens, the audit log (issue 16)
    "username": "The user's sign-in name: 3-64 characters, letters, digits, '.', '_' and "
                "'-'; unique.",
    "display_name": "How the console shows the user (at most 128 characters).",
    "disabled": "A disabled user cannot sign in; their tokens and sessions stop working.",
    "has_password": "Whether the user can sign in to the console with a password.",
    "UserUpdate.password": "A new password (at least 12 characters); ends the user's "
                           "console sessions.",
    "MeUpdate.password": "A new password (at least 12 characters); needs current_password.",
    "current_password": "The user's password now, to change it (not through an API token).",
    "user_id": "The user's id.",
    "Token.name": "What the token is for (a name, unique among the user's tokens).",
    "TokenWithSecret.name": "What the token is for (a name, unique among the user's tokens).",
    "expires_at": "When it stops working (UTC).",
    "last_used_at": "When it last authenticated a request (UTC), or null if never.",
    "token": "The bearer token: shown in this answer only, stored hashed.",
    "actor_kind": "root (the admin token), user (a console session), token (a user's API "
                  "token) or system.",
    "token_name": "The name of the API token the request came with, if any.",
    "token_expires_at": "When that token stops working (UTC).",
    "actor": "Who made the change: a username, or root.",
    "address": "The client address the change came from.",
    "action": "What was done: create, update, delete, start, stop, run, publish, "
              "unpublish, grant, revoke, reset-secret, test, login, login-failed, logout, "
              "logout-all, lockout.",
    "resource_type": "What kind of resource changed: app, group, api, grant, task, "
                     "instance, channel, calendar, user, token, session or sign-in.",
    "resource_id": "The id of the resource changed.",
    "resource_name": "Its name when the change was made.",
    "changes": "Each changed field as {before, after}; secrets as [redacted]; null when "
               "the event itself is all there is (a login).",
    # instance
    "Instance.name": "The instance's name.",
    "InstanceUpdate.name": "The instance's name.",
    "params": "The instance parameters; on update, only the parameters given change.",
    "app_route": "Route calls at the gateway's address (on) or only by the API group's "
                 "domain as Host (off). Off refuses creating and starting tasks.",
    "app_secret": "Accept X-HW-ID / X-HW-AppKey credentials at the gateway (on). Off "
                  "refuses creating and starting tasks, which call with them.",
    "replay_guard": "Refuse a signed request whose signature the gateway has seen in the "
                    "last 15 minutes, on every node.",
    "unsigned_payload": "Accept X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD (a body left "
                        "unsigned).",
    "timezone": "IANA time zone (e.g. Europe/Berlin) in which the schedule is evaluated; "
                "default the instance's.",
    "Instance.timezone": "The default time zone of new tasks (IANA name).",
    "InstanceUpdate.timezone": "The default time zone of new tasks (IANA name).",
    "gateway_url": "Where the gateway is reached (APICRON_GATEWAY_URL).",
    # apps, groups, APIs, grants
    "key": "The app's key: X-HW-ID, or Access= of a signature.",
    "secret": "The app's secret, shown only in this answer: X-HW-AppKey, or the signing "
              "key. Stored encrypted; reset it if lost.",
    "app_id": "The integration app it belongs to.",
    "Task.app_id": "The integration app whose credentials the task calls with.",
    "TaskCreate.app_id": "The integration app whose credentials the task calls with.",
    "TaskUpdate.app_id": "The integration app whose credentials the task calls with.",
    "Grant.app_id": "The app allowed to call the API.",
    "GrantCreate.app_id": "The app allowed to call the APIs.",
    "Api.app_id": "The app of the API's group (read-only).",
    "domain": "The group's generated domain: the Host to call its APIs by when app_route "
              "is off.",
    "group_id": "The API group it belongs to.",
    "method": "The HTTP method the gateway routes.",
    "path": "The path the gateway routes; {name} marks a parameter.",
    "auth_type": "NONE: anyone may call; APP: a signature or X-HW-ID/X-HW-AppKey of an app "
                 "that owns the API or holds a grant for it.",
    "backend_url": "Where the gateway forwards calls; may use the path's {parameters}.",
    "backend_timeout_ms": "How long the gateway waits for the backend, 1-60000 ms.",
    "published": "Whether the gateway serves it (the snapshot of its last publish).",
    "published_at": "When it was last published (UTC), or null.",
    "publish": "Publish it in the same transaction: both happen or neither.",
    "api_id": "The API it calls (published, NONE or APP auth).",
    "Grant.api_id": "The API the app may call.",
    "api_ids": "The APIs the app may call (1-100); all granted or none.",
    # tasks
    "effective_time": "Nothing fires before it (default: creation time); a CALENDAR "
                      "schedule counts its intervals from it.",
    "end_time": "Nothing fires after it; null: no end.",
    "trigger_type": _TASK_TRIGGER,
    "cron_expression": "Quartz (6-7 fields: sec min hour day-of-month month day-of-week "
                       "[year]) or Unix (5 fields); CRON only.",
    "interval_unit": "MINUTE, HOUR, DAY, WEEK or MONTH; CALENDAR only.",
    "interval_value": f"Every how many units, 1-{MAX_INTERVAL} (default 1); CALENDAR only.",
    "max_retries": "Retries after a failed attempt (connect errors, timeouts, 408, 429, "
                   "5xx), 0-3.",
    "request": "What the task sends: headers, query parameters and body.",
    "headers": "Headers to send (reserved: Host, Content-Length, Authorization, X-HW-ID, "
               "X-HW-AppKey, X-Apicron-*). Values may hold request variables: " + _VARIABLES,
    "query": "Query parameters to send; a name may repeat. Values may hold request "
             "variables: " + _VARIABLES,
    "body": "The body (POST, PUT and PATCH only), or null.",
    "content_type": "application/json (must parse), application/xml (well-formed) or "
                    "application/text.",
    "content": "The body's text, at most 1 MiB. It may hold request variables: "
               + _VARIABLES + " In a JSON body a placeholder inside a string is replaced "
               "by the JSON-escaped value; outside a string it is a JSON value (a number for "
               "scheduled_time_unix and attempt, a quoted string for the others), so the "
               "body stays JSON.",
    "value": "Its value.",
    "NameValue.name": "The header or query parameter name.",
    "StoredNameValue.name": "The header or query parameter name.",
    "misfire_policy": "For occurrences found later than the grace period: RUN_ONCE runs "
                      "the latest (the rest MISSED), SKIP records them all MISSED.",
    "overlap_policy": "When the previous execution is still running: SKIP (recorded "
                      "SKIPPED), ALLOW (run beside it), BUFFER_ONE (run right after it; one "
                      "waits at most, more are SKIPPED) or CANCEL_PREVIOUS (cancel it, "
                      "recorded CANCELLED, and run).",
    "status": "INITIALIZED (created), STARTED (fires on schedule), STOPPED, or COMPLETED "
              "(a one-off task after its run).",
    "next_fire_time": "When it fires next (UTC), or null.",
    "stop_reason": "Why the task is stopped: the note given when stopping it, or why "
                   "apicron stopped it by itself; null otherwise.",
    "effective_wall": "A CALENDAR task's effective time as typed without an offset (a wall "
                      "time in its zone), or null.",
    "schedule_description": "The schedule in words.",
    "schedule_warnings": "What could be misread in the trigger (e.g. Quartz day-of-week "
                         "numbers).",
    "last_execution": "The task's latest execution, or null.",
    # executions
    "task_id": "The task it belongs to.",
    "scheduled_at": "The occurrence it runs (UTC); unique per task for SCHEDULE.",
    "trigger": "SCHEDULE (an occurrence), MANUAL (a run), BACKFILL (a past occurrence "
               "run by POST /v1/tasks/{task_id}/backfill) or REPLAY (a past execution's "
               "occurrence run again).",
    "replay_of": "The execution this one re-runs (trigger REPLAY), or null.",
    "sequence_id": "The executions of one SEQUENTIAL backfill share it (they run one at "
                   "a time, in scheduled order), or null.",
    "ExecutionSummary.status": "PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED or MISSED.",
    "Execution.status": "PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED or MISSED.",
    "started_at": "When it started (UTC), or null.",
    "finished_at": "When it finished (UTC), or null.",
    "error_kind": "DNS, CONNECT, TLS, TIMEOUT, HTTP, AUTH, CONFIG, INTERRUPTED, INTERNAL or "
                  "ASSERTION (a success condition on the body did not hold); null on success.",
    "error_msg": "What went wrong, or null.",
    "note": "How the occurrence came to run as it did (e.g. late after downtime), or null.",
    "planned_at": "When apicron planned to fire it (UTC): scheduled_at plus the task's "
                  "jitter; null for manual runs and occurrences missed before planning.",
    # one-off runs, jitter, call policy (issue 18)
    "run_at": "AT only: the instant it fires, once (without an offset: a wall time in the "
              "task's timezone); null for other triggers.",
    "after_completion": "AT only: after its run the task is kept COMPLETED (KEEP) or deleted "
                        "with its history kept (DELETE).",
    "jitter_s": "Each fire moves up to this many seconds later, 0-43200 (0: none).",
    "jitter_mode": "RANDOM (a new offset per occurrence) or STABLE (one per task, from its "
                   "id, the same on every node and restart).",
    "timeout_ms": "The call's timeout, 1-60000 ms; null: the API's backend_timeout_ms.",
    "retry_backoff_base_ms": "The first retry waits up to this long, doubling each retry "
                             "(1-3600000 ms; null: 1000).",
    "retry_backoff_cap_ms": "No retry waits longer, Retry-After included (1-3600000 ms, at "
                            "least the base; null: 60000).",
    "attempts": "Every attempt, first to last.",
    "number": "The attempt's number, from 1.",
    "duration_ms": "How long the attempt took.",
    "http_status": "The backend's status, or null without an answer.",
    "response_excerpt": "The start of the answer (at most 4 KiB), credentials redacted.",
    "Attempt.node_id": "The apicron node that made the attempt.",
    # cron preview
    "count": "How many fire times to list, 1-100.",
    "Preview.description": "The trigger in words.",
    "next_fire_times": "The next fire times (UTC), at or after max(now, effective_time).",
    "fire_times": "The same fire times, with local time and DST notes.",
    "at": "The fire time (UTC).",
    "local": "The fire time in the task's zone.",
    "dst_shifted": "A DST change moved this fire.",
    "dst_note": "What a DST change did to or around this fire, or null.",
    "warnings": "What could be misread in the trigger.",
    # nodes and probes
    "Node.id": "The node's id (host-pid-random).",
    "role": "What the process runs: all, api, gateway or scheduler.",
    "host": "The host it runs on.",
    "pid": "Its process id.",
    "version": "apicron's version.",
    "Node.started_at": "When the process started (UTC).",
    "heartbeat_at": "Its last heartbeat (UTC).",
    "alive": "Heartbeat within the last 10 s.",
    "node_id": "This process's node id.",
    "Liveness.status": "ok or unhealthy.",
    "Readiness.status": "ok or unhealthy.",
    "Health.status": "ok or unhealthy.",
    "database": "ok, or why the database cannot be used.",
    "schema": "ok, or how the schema differs from this version's.",
    "writes": "ok, or why writes fail (e.g. a full disk).",
    "checks": "Each check (database, schema, writes) and its state.",
    "engine": "The engine's state on this node.",
    "state": "off (no engine here), running, failing, stopped, or failed (gave up).",
    "last_pass_at": "When the engine last completed a pass, or null.",
    "seconds_since_pass": "Seconds since that pass, or null.",
    "failing_for_s": "Seconds passes have been failing, or null.",
    "last_error": "The last pass error, or null.",
    "live": "Whether the engine counts as alive.",
    # success conditions and alert rules (issue 14; their own fields carry descriptions)
    "success": "When an answer counts as a success (status codes, a JMESPath condition, a "
               "body regex); null: any 2xx.",
    "alerts": "Who is notified of failures, recoveries and misses, and when; null: the "
              "instance's default_alerts, if any.",
    "Instance.default_alerts": "The alert rules of every task that has none of its own "
                               "(alerts null), or null.",
    "InstanceUpdate.default_alerts": "The alert rules of every task that has none of its "
                                     "own; null clears them.",
    # channels
    "kind": "webhook (apicron's signed event JSON POSTed to a URL) or apprise (any Apprise "
            "URL: Slack, Teams, email, ntfy…).",
    "url": "Where the channel sends, shown masked: it carries credentials (stored "
           "encrypted).",
    "ChannelUpdate.url": "A new URL (webhook: http(s); apprise: any Apprise URL), replacing "
                         "the old one; stored encrypted, shown masked.",
    "ChannelUpdate.secret": "webhook only: a new signing secret (16-256 characters), "
                            "replacing the old one; never answered.",
    "ChannelWithSecret.secret": "webhook only: the signing secret of X-Apicron-Signature, "
                                "shown only in this answer; null for apprise.",
    "ok": "Whether the test message was delivered.",
    "ChannelTestResult.error": "Why it was not delivered, or null.",
    "ChannelTestResult.duration_ms": "How long the delivery took.",
    # alert events
    "task_name": "The task's name when the event was written.",
    "channel_id": "The channel it goes to.",
    "channel_kind": "The channel's kind: webhook or apprise.",
    "event": "FAILURE, RECOVERY, MISSED, NO_SUCCESS (dead-man) or AUTO_STOPPED.",
    "execution_id": "The execution that caused it, or null (e.g. NO_SUCCESS).",
    "AlertEvent.status": "PENDING (to be delivered or retried), SENT, or FAILED (given up; "
                         "see last_error).",
    "AlertEvent.attempts": "How many deliveries were tried.",
    "AlertEvent.last_error": "Why the last delivery failed, or null.",
    "message": "The alert's text as sent.",
    "sent_at": "When it was delivered (UTC), or null.",
    "next_attempt_at": "When delivery is tried again (UTC), or null.",
    # business calendars (issue 18)
    "exclude_dates": 'Days excluded: dates "YYYY-MM-DD" and inclusive ranges '
                     '"YYYY-MM-DD..YYYY-MM-DD", as days of each task\'s zone.',
    "exclude_weekdays": "Weekdays excluded: MON, TUE, WED, THU, FRI, SAT, SUN.",
    "holidays": "Public holidays excluded (and make-up working days included) from the "
                "holidays library: {country, subdivision}, or null.",
    "include_dates": "Working days whatever else excludes them (dates and ranges, as in "
                     "exclude_dates).",
    "calendar_ids": "Ids of business calendars the task follows (GET /v1/calendars); a day "
                    "any of them excludes is handled by calendar_policy.",
    "calendar_policy": "What an occurrence on an excluded day does: SKIP (recorded SKIPPED, "
                       "naming the calendar entry), NEXT or PREVIOUS (runs at the same wall "
                       "time on the next / previous included day).",
    "calendar_changes": "Each occurrence on the way that a calendar removed or moved, and "
                        "which entry did it.",
    "occurrence": "The trigger's own fire time (UTC).",
    "PreviewCalendarChange.action": "SKIPPED or MOVED.",
    "moved_to": "Where it runs instead (UTC), or null when skipped.",
    "calendar": "The calendar's name.",
    "entry": "The calendar entry: a holiday's name and country, or the exclude_dates or "
             "exclude_weekdays entry.",
    "text": "The change in words, e.g. 2027-12-25 skipped: Christmas Day (DE).",
    "calendar_note": "How a calendar moved this fire, or null.",
    # errors
    "error_code": "What kind of error (INVALID_INPUT, NOT_FOUND, CONFLICT, …).",
}

# Issue 18: stop notes, clones and bulk actions.
FIELDS |= {
    "tags": "Labels {\"key\": \"value\"} (at most 20; keys and values of at most 63 "
            "letters, digits, '_', '.', '-', keys also '/'), to find and act on tasks by.",
    "TaskStop.note": "Why the task is stopped (one line, at most 255 characters), shown as "
                     "its stop_reason until it is started again.",
    "BulkAction.note": "With bulk/stop: the note each stopped task keeps as its stop_reason.",
    "TaskClone.name": "The new task's name (the name rules; unique).",
    "filter": "Which tasks: every condition given must hold; at least one is needed.",
    "dry_run": "True: change nothing, answer what would change (WOULD_CHANGE).",
    "TaskFilter.tags": "Tasks carrying every one of these tags.",
    "TaskFilter.status": "Tasks in this status.",
    "name_prefix": "Tasks whose name starts with this text.",
    "ids": "Tasks with one of these ids.",
    "BulkResult.action": "start or stop.",
    "changed": "How many tasks changed state.",
    "failed": "How many tasks could not be changed (each says why).",
    "status_before": "The task's status before the action.",
    "BulkItem.status": "The task's status after the action (unchanged in a dry run).",
    "outcome": "CHANGED, UNCHANGED (already so), WOULD_CHANGE (dry run) or FAILED (in a "
               "dry run too: what the action would refuse, with its error).",
    "BulkItem.error_code": "Why it could not be changed (the error code), or null.",
}

SCHEMAS: dict[str, str] = {
    "Instance": "The instance: its name, parameters, default time zone and gateway URL.",
    "InstanceParams": "The instance parameters.",
    "InstanceUpdate": "Changes to the instance: only the fields given change.",
    "InstanceParamsUpdate": "Changes to the parameters: only those given change.",
    "App": "An integration app: the credentials tasks and callers use.",
    "AppCreate": "A new integration app.",
    "AppUpdate": "Changes to an app: only the fields given change.",
    "AppWithSecret": "An integration app with its secret (create and reset answers only).",
    "Group": "An API group, owned by one app.",
    "GroupCreate": "A new API group.",
    "GroupUpdate": "Changes to a group: only the fields given change.",
    "Api": "An API: a route of the gateway to a backend (the draft; see published).",
    "ApiCreate": "A new API.",
    "ApiUpdate": "Changes to an API's draft: only the fields given change.",
    "Grant": "A grant: an app may call an APP-auth API it does not own.",
    "GrantCreate": "Grants of several APIs to one app, all or none.",
    "GrantItems": "The grants made.",
    "NameValue": "A header or query parameter.",
    "StoredNameValue": "A header or query parameter.",
    "Body": "A request body.",
    "StoredBody": "A request body.",
    "TaskRequest": "What a task sends.",
    "StoredRequest": "What a task sends.",
    "TaskCreate": "A new scheduled task, created INITIALIZED.",
    "BackfillRequest": "A past range of a task's occurrences to run.",
    "BackfillResult": "What a backfill queued (or, on a dry run, would queue).",
    "Execution": "One occurrence (or manual run) of a task, with its attempts.",
    "ExecutionSummary": "One occurrence (or manual run) of a task.",
    "Attempt": "One call of an execution.",
    "PreviewRequest": "A trigger to explain, as a task would have it.",
    "Preview": "A trigger in words and its next fire times.",
    "PreviewFireTime": "One fire time.",
    "Node": "One apicron process serving this instance.",
    "Liveness": "Whether this process and its engine loop are alive.",
    "Readiness": "Whether the database is reachable, migrated and writable.",
    "Health": "Readiness and liveness, with this process's identity.",
    "EngineState": "The engine loop of this process.",
    "ChannelCreate": "A new notification channel.",
    "ChannelTestResult": "How a test message through the channel went.",
    "User": "A user of the console and the API, with a role.",
    "UserCreate": "A new user; without password they use API tokens only.",
    "Token": "One of a user's API tokens (never the token itself).",
    "TokenCreate": "A new API token, for the user or a lower role.",
    "JsonValue": "Any JSON value.",
    "Calendar": "A business calendar: the days tasks that follow it do not fire on.",
    "CalendarCreate": "A new business calendar.",
    "CalendarUpdate": "Changes to a calendar: only the fields given change.",
    "HolidaySource": "Public holidays of a country and optionally one of its subdivisions.",
    "PreviewCalendarChange": "An occurrence a calendar removed or moved.",
    "ErrorBody": "Every error answer.",
    "FieldError": "One wrong field and its rule.",
}

PARAMETERS: dict[str, str] = {
    "app_id": "The integration app's id.",
    "group_id": "The API group's id.",
    "api_id": "The API's id.",
    "grant_id": "The grant's id.",
    "task_id": "The task's id.",
    "execution_id": "The execution's id.",
    "published": "Only published (true) or unpublished (false) APIs.",
    "status": "Only those in this status.",
    "channel_id": "The notification channel's id.",
    "kind": "Only channels of this kind (webhook or apprise).",
    "event": "Only events of this kind.",
    "user_id": "The user's id.",
    "token_id": "The API token's id.",
    "resource_id": "Only entries about this resource id.",
    "calendar_id": "The business calendar's id.",
}
_PARAMETERS_IN_LISTS = {
    "app_id": "Only those of this app.",
    "group_id": "Only those of this group.",
    "api_id": "Only those of this API.",
    "task_id": "Only those of this task.",
    "channel_id": "Only those for this channel.",
}


def describe_document(schema: dict[str, Any]) -> None:
    """Give every component schema, component property and parameter of ``schema`` its
    description, unless it has one already."""
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        if "description" not in component:
            page = name.startswith("Page_") and name[len("Page_"):].rstrip("_")
            text = f"A page of {page} items: total and items." if page else SCHEMAS.get(name)
            if text is not None:
                component["description"] = text
        for field, prop in component.get("properties", {}).items():
            if "description" not in prop:
                text = FIELDS.get(f"{name}.{field}") or FIELDS.get(field)
                if text is not None:
                    prop["description"] = text
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if "description" in parameter:
                    continue
                name = parameter["name"]
                text = (_PARAMETERS_IN_LISTS.get(name) if parameter["in"] == "query"
                        else None) or PARAMETERS.get(name)
                if text is not None:
                    parameter["description"] = text


def body_example(example: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` of a route: ``example`` as its request body's example."""
    return {"requestBody": {"content": {"application/json": {"example": example}}}}
