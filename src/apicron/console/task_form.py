"""The Create/Edit Scheduled Task form: posted rows to a task's fields, and back.

The form only reshapes what the user typed; every rule is the domain's, so the console
says exactly what the API says for the same mistake.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from apicron.console.web import Form
from apicron.domain.errors import ApicronError, InvalidInput, Problem
from apicron.domain.models import Task, TaskFields
from apicron.relative_time import relative_seconds
from apicron.triggers import load_zone

BODY_METHODS = ("POST", "PUT", "PATCH")
# The form's date-time fields are text showing ISO 8601 as "2027-03-01 09:30" (a
# datetime-local input would show the browser's locale, e.g. 03/01/2027, 09:30 AM).
WALL_TIME = "%Y-%m-%d %H:%M:%S"
_WALL = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2})?")


def _int_or_text(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _rows(form: Form, kind: str) -> list[dict[str, str]]:
    names, values = form.getlist(f"{kind}_name"), form.getlist(f"{kind}_value")
    rows = []
    for i, name in enumerate(names):
        value = values[i] if i < len(values) else ""
        if name.strip() or value:  # an untouched empty row is not a parameter
            rows.append({"name": name.strip(), "value": value})
    return rows


def wall_time(text: str) -> str | None:
    """A typed wall time as the domain reads it: ``2027-03-01 09:30``, with seconds or a
    ``T`` too, becomes ``2027-03-01T09:30:00``; other text goes on as typed, so the domain
    names the rule it breaks."""
    text = text.strip()
    if not text:
        return None
    wall = _WALL.fullmatch(text)
    return f"{wall[1]}T{wall[2]}{wall[3] or ':00'}" if wall else text


def shown_time(moment: datetime) -> str:
    """A wall time as the form shows it: ``2027-03-01 09:30``, seconds only when set."""
    return moment.strftime("%Y-%m-%d %H:%M" if moment.second == 0 else WALL_TIME)


def run_at_given(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``data`` with a relative Run At ("in 10 minutes", "in 2h 30m"; the CLI's ``--at``
    rule, apicron.relative_time) as the UTC instant it names from ``now``; data without one
    is returned as it is. Raises InvalidInput (run_at) for relative text that does not
    read."""
    text = data.get("run_at")
    if not isinstance(text, str):
        return data
    try:
        seconds = relative_seconds(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="run_at") from None
    if seconds is None:
        return data
    moment = now.astimezone(UTC) + timedelta(seconds=seconds)
    return {**data, "run_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _json_or_text(text: str) -> Any:
    """A JSON value as typed (``"ok"``, ``true``, ``200``); text that is not JSON is taken
    as a string, as a person means ``ok``."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def success_data(form: Form) -> dict[str, Any] | None:
    """The success conditions typed (None: none, any 2xx is a success)."""
    data = {
        "status_codes": form.get("success_status_codes").strip() or None,
        "jmespath": form.get("success_jmespath").strip() or None,
        "equals": _json_or_text(form.get("success_equals")),
        "body_regex": form.get("success_body_regex") or None,
        "retry_on_assertion": form.get("success_retry") == "on",
    }
    if not any(v not in (None, False) for v in data.values()):
        return None
    return {k: v for k, v in data.items() if v is not None}


def alerts_data(form: Form) -> dict[str, Any] | None:
    """The alert rules typed, when alerts are turned on (None: the instance's defaults)."""
    if form.get("alerts_enabled") != "on":
        return None
    return {
        "channel_ids": form.getlist("alert_channel"),
        "on_failure_after": _int_or_text(form.get("alert_on_failure_after")),
        "on_recovery": form.get("alert_on_recovery") == "on",
        "on_missed": form.get("alert_on_missed") == "on",
        "no_success_within_s": _int_or_text(form.get("alert_no_success_within_s")),
        "auto_stop_after": _int_or_text(form.get("alert_auto_stop_after")),
        "repeat_every_s": _int_or_text(form.get("alert_repeat_every_s")),
    }


def _default(name: str) -> Any:
    """The domain's default for a task field the form left empty (issue 18: jitter_s 0,
    jitter_mode RANDOM, after_completion KEEP, calendar_policy SKIP), never spelled here."""
    return TaskFields.model_fields[name].default


def _int_or_default(form: Form, name: str) -> int | str | None:
    value = _int_or_text(form.get(name))
    return _default(name) if value is None else value


def task_data(form: Form) -> dict[str, Any]:
    """The posted form as a task's fields (``TaskCreate``/``TaskUpdate`` input): only the
    chosen trigger's fields are given; an empty optional number is the domain's default."""
    trigger = form.get("trigger_type", "CRON")
    content_type, content = form.get("body_content_type"), form.get("body_content")
    body = {"content_type": content_type, "content": content} if content.strip() else None
    return {
        "name": form.get("name").strip(),
        "app_id": form.get("app_id"),
        "description": form.get("description"),
        "effective_time": wall_time(form.get("effective_time")),
        "end_time": wall_time(form.get("end_time")),
        "timezone": form.get("timezone") or None,
        "trigger_type": trigger,
        "cron_expression": form.get("cron_expression").strip() if trigger == "CRON" else None,
        "interval_unit": (form.get("interval_unit") or None) if trigger == "CALENDAR" else None,
        "interval_value": _int_or_text(form.get("interval_value"))
        if trigger == "CALENDAR" else None,
        "max_retries": _int_or_text(form.get("max_retries", "0")),
        "api_id": form.get("api_id"),
        "request": {"headers": _rows(form, "header"), "query": _rows(form, "query"),
                    "body": body},
        "misfire_policy": form.get("misfire_policy", "RUN_ONCE"),
        "overlap_policy": form.get("overlap_policy", "SKIP"),
        "success": success_data(form),
        "alerts": alerts_data(form),
        # Issue 18: "env=prod, team=billing"; a key alone has an empty value.
        "tags": tags_of_text(form.get("tags")),
        # Issue 18: a one-off run at a wall time in the task's zone, jitter, the call's own
        # timeout and backoff, and business calendars (not for a one-off task).
        # A wall time in the task's zone, or "in 10 minutes" (resolved by run_at_given).
        "run_at": wall_time(form.get("run_at")) if trigger == "AT" else None,
        "after_completion": form.get("after_completion") or _default("after_completion"),
        "jitter_s": _int_or_default(form, "jitter_s"),
        "jitter_mode": form.get("jitter_mode") or _default("jitter_mode"),
        "timeout_ms": _int_or_text(form.get("timeout_ms")),
        "retry_backoff_base_ms": _int_or_text(form.get("retry_backoff_base_ms")),
        "retry_backoff_cap_ms": _int_or_text(form.get("retry_backoff_cap_ms")),
        "calendar_ids": form.getlist("calendar_ids") if trigger != "AT" else [],
        "calendar_policy": form.get("calendar_policy") or _default("calendar_policy"),
    }


def tags_of_text(text: str) -> dict[str, str]:
    """The form's tags text as tags (the rules are the domain's, checked on save)."""
    tags: dict[str, str] = {}
    for part in text.replace("\n", ",").split(","):
        if part.strip():
            key, _, value = part.strip().partition("=")
            tags[key.strip()] = value.strip()
    return tags


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a task's fields) as the form shows them again: ``equals`` as JSON text."""
    success = data.get("success") or {}
    equals = success.get("equals")
    tags = data.get("tags") or {}
    return {**data, "success_equals_text": "" if equals is None else json.dumps(equals),
            "tags_text": ", ".join(f"{k}={v}" if v else k for k, v in tags.items())}


def values_of(task: Task) -> dict[str, Any]:
    """A stored task as the form shows it: times as wall times in the task's zone."""
    zone = load_zone(task.timezone)
    local = task.effective_time.astimezone(zone)
    end = shown_time(task.end_time.astimezone(zone)) if task.end_time else ""
    run_at = shown_time(task.run_at.astimezone(zone)) if task.run_at else ""
    body = task.request.body
    return {
        "name": task.name,
        "app_id": task.app_id,
        "description": task.description,
        "effective_time": shown_time(local),
        "end_time": end,
        "timezone": task.timezone,
        "trigger_type": task.trigger_type,
        "cron_expression": task.cron_expression or "",
        "interval_unit": task.interval_unit or "MINUTE",
        "interval_value": task.interval_value or 1,
        "max_retries": task.max_retries,
        "api_id": task.api_id,
        "request": {
            "headers": [h.model_dump() for h in task.request.headers],
            "query": [p.model_dump() for p in task.request.query],
            "body": body.model_dump() if body else None,
        },
        "misfire_policy": task.misfire_policy,
        "overlap_policy": task.overlap_policy,
        "success": task.success.model_dump(mode="json") if task.success else None,
        "alerts": task.alerts.model_dump(mode="json") if task.alerts else None,
        "tags": dict(task.tags),
        "run_at": run_at,
        "after_completion": task.after_completion,
        "jitter_s": task.jitter_s,
        "jitter_mode": task.jitter_mode,
        "timeout_ms": task.timeout_ms,
        "retry_backoff_base_ms": task.retry_backoff_base_ms,
        "retry_backoff_cap_ms": task.retry_backoff_cap_ms,
        "calendar_ids": list(task.calendar_ids),
        "calendar_policy": task.calendar_policy,
    }


# Where a domain field's error shows in the form.
_SECTIONS = (
    ("request.headers", "headers"),
    ("request.query", "query"),
    ("request.body", "body"),
    ("request", "body"),
    ("success", "success"),
    ("alerts", "alerts"),
    ("tags", "tags"),
    ("calendar_ids", "calendar_ids"),
)
FORM_FIELDS = {
    "name", "app_id", "description", "effective_time", "timezone", "trigger_type",
    "cron_expression", "interval_unit", "interval_value", "max_retries", "api_id", "end_time",
    "misfire_policy", "overlap_policy",
    # Issue 18
    "run_at", "after_completion", "jitter_s", "jitter_mode", "timeout_ms",
    "retry_backoff_base_ms", "retry_backoff_cap_ms", "calendar_policy",
}
# The fields inside the form's folded "More schedule options": an error there unfolds it.
ADVANCED_FIELDS = (
    "end_time", "misfire_policy", "overlap_policy", "jitter_s", "jitter_mode", "timeout_ms",
    "retry_backoff_base_ms", "retry_backoff_cap_ms",
)


def _place(problem: Problem) -> tuple[str, str]:
    for prefix, key in _SECTIONS:
        if problem.field.startswith(prefix):
            return key, f"{problem.field.removeprefix('request.')}: {problem.rule}"
    if problem.field in FORM_FIELDS:
        return problem.field, problem.rule
    return "form", f"{problem.field}: {problem.rule}"


def placed(error: ApicronError) -> dict[str, str]:
    """Every problem of ``error`` at the form key that shows it (``form``: the top of the
    form); two problems at one key share it, joined by "; "."""
    if not error.problems:
        return {"form": str(error)}
    shown: dict[str, str] = {}
    for problem in error.problems:
        key, text = _place(problem)
        shown[key] = f"{shown[key]}; {text}" if key in shown else text
    return shown
