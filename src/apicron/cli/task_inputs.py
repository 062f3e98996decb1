"""Reading ``apicron task create|update``'s options into the fields of a task."""

from __future__ import annotations

import json
from pathlib import Path

from apicron.cli.inputs import Json, choice, given
from apicron.cli.output import usage
from apicron.domain.vocabulary import (
    ContentType,
    IntervalUnit,
    MisfirePolicy,
    OverlapPolicy,
    choices,
)

INTERVAL_UNITS = choices(IntervalUnit)
MISFIRE_POLICIES = choices(MisfirePolicy)
OVERLAP_POLICIES = choices(OverlapPolicy)
CONTENT_TYPES = choices(ContentType)


def parse_headers(values: list[str]) -> list[Json]:
    """``--header 'Name: value'`` options; a usage error naming every one that does not
    read (all at once)."""
    headers, bad = [], []
    for value in values:
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            bad.append(repr(value))
        headers.append({"name": name.strip(), "value": rest.strip()})
    if bad:
        usage("--header", f"expected 'Name: value' (got {', '.join(bad)})")
    return headers


def parse_query(values: list[str]) -> list[Json]:
    """``--query name=value`` options; a usage error naming every one that does not read
    (all at once)."""
    query, bad = [], []
    for value in values:
        name, equals, rest = value.partition("=")
        if not equals or not name:
            bad.append(repr(value))
        query.append({"name": name, "value": rest})
    if bad:
        usage("--query", f"expected 'name=value' (got {', '.join(bad)})")
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


def merged_request(
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


def success_conditions(
    current: Json | None, status_codes: str | None, jmespath: str | None, equals: str | None,
    body_regex: str | None, retry_on_assertion: bool | None, clear: bool,
) -> Json | bool | None:
    """The task's ``success`` with the given options applied (the API replaces it whole);
    ``False`` when no option was given (nothing to send), ``None`` to clear it."""
    if clear:
        if any(v is not None for v in (status_codes, jmespath, equals, body_regex,
                                       retry_on_assertion)):
            usage("--no-success", "cannot be given with other --success options")
        return None
    given_now = given(status_codes=status_codes, jmespath=jmespath, body_regex=body_regex,
                      retry_on_assertion=retry_on_assertion)
    if equals is not None:
        try:
            given_now["equals"] = json.loads(equals)
        except ValueError:
            usage("--success-equals", f"must be a JSON value, e.g. true, 200 or '\"ok\"' "
                                      f"(got {equals!r})")
    if not given_now:
        return False
    return {**(current or {}), **given_now}


def alert_rules(
    current: Json | None, channel_ids: list[str] | None, failure_after: int | None,
    no_failure_alert: bool, recovery: bool | None, missed: bool | None,
    no_success_within: int | None, auto_stop_after: int | None, repeat_every: int | None,
    clear: bool,
) -> Json | bool | None:
    """The task's ``alerts`` with the given options applied; ``False``: no option given,
    ``None``: clear them (the instance's default rules apply again)."""
    options = (channel_ids, failure_after, recovery, missed, no_success_within,
               auto_stop_after, repeat_every)
    if clear:
        if any(v is not None for v in options) or no_failure_alert:
            usage("--no-alerts", "cannot be given with other --alert options")
        return None
    changes = given(channel_ids=channel_ids, on_failure_after=failure_after,
                    on_recovery=recovery, on_missed=missed,
                    no_success_within_s=no_success_within, auto_stop_after=auto_stop_after,
                    repeat_every_s=repeat_every)
    if no_failure_alert:
        if failure_after is not None:
            usage("--no-failure-alert", "cannot be given with --alert-after")
        changes["on_failure_after"] = None
    if not changes:
        return False
    merged = {**(current or {}), **changes}
    if "channel_ids" not in merged:
        usage("--alert-channel", "name the channel(s) alerts go to (repeatable)")
    return merged
