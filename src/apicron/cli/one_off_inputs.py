"""Reading the CLI's issue-18 options: a one-off's ``--at`` (absolute or "in 10 minutes"),
jitter and the task's call policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apicron.cli.inputs import Json, choice, given
from apicron.cli.output import usage
from apicron.domain.vocabulary import AfterCompletion, JitterMode, choices
from apicron.relative_time import relative_seconds

AFTER_COMPLETION = choices(AfterCompletion)
JITTER_MODES = choices(JitterMode)
__all__ = ["one_off_trigger", "relative_seconds", "run_at", "scheduling_fields"]


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
