"""Reading the CLI's issue-18 options: a one-off's ``--at`` (absolute or "in 10 minutes"),
jitter and the task's call policy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from apicron.cli.inputs import Json, choice, given
from apicron.cli.output import usage
from apicron.domain.vocabulary import AfterCompletion, JitterMode, choices

AFTER_COMPLETION = choices(AfterCompletion)
JITTER_MODES = choices(JitterMode)
_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_PART = re.compile(r"\s*(\d+)\s*([a-z]+)\s*,?\s*(?:and\s+)?")


def relative_seconds(text: str) -> int | None:
    """Seconds from now that ``text`` says ("in 10 minutes", "in 2h", "in 1h 30m"), or
    None when it is not relative (then it is a time the API reads). Raises ValueError for
    relative text that does not read."""
    words = text.strip().lower()
    if not words.startswith("in ") and not words.startswith("+"):
        return None
    rest = words[1:] if words.startswith("+") else words[3:]
    total, position = 0, 0
    while position < len(rest):
        match = _PART.match(rest, position)
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(f"cannot read {text!r}: write e.g. 'in 10 minutes' or 'in 2h 30m'")
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0:
        raise ValueError(f"cannot read {text!r}: write e.g. 'in 10 minutes' or 'in 2h 30m'")
    return total


def run_at(value: str, now: datetime | None = None) -> str:
    """``--at``: relative text becomes an RFC 3339 UTC instant from ``now`` (the local
    clock); anything else is sent as typed (RFC 3339, or a wall time in the task's zone)."""
    try:
        seconds = relative_seconds(value)
    except ValueError as exc:
        usage("--at", str(exc))
    if seconds is None:
        return value
    moment = (now or datetime.now(UTC)) + timedelta(seconds=seconds)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def one_off_trigger(at: str, cron: str | None, every: str | None, interval: int | None) -> Json:
    """The trigger fields of ``--at`` (the other triggers' fields cleared)."""
    for flag, value in (("--cron", cron), ("--every", every), ("--interval", interval)):
        if value is not None:
            usage(flag, "give one trigger: --at is a one-off run")
    return {"trigger_type": "AT", "run_at": run_at(at), "cron_expression": None,
            "interval_unit": None, "interval_value": None}


def scheduling_fields(
    after_completion: str | None, jitter: int | None, jitter_mode: str | None,
    timeout_ms: int | None, backoff_base_ms: int | None, backoff_cap_ms: int | None,
) -> Json:
    return given(
        after_completion=choice("--after-completion", after_completion, AFTER_COMPLETION),
        jitter_s=jitter,
        jitter_mode=choice("--jitter-mode", jitter_mode, JITTER_MODES),
        timeout_ms=timeout_ms,
        retry_backoff_base_ms=backoff_base_ms,
        retry_backoff_cap_ms=backoff_cap_ms,
    )
