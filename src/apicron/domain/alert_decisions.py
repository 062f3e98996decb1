"""What a task's alert rules make of its results: pure decisions, no I/O (issue 14).

The store keeps one :class:`AlertState` per task; every result that is recorded (an
execution SUCCEEDED or FAILED, occurrences MISSED or SKIPPED) goes through
:func:`on_results` in the same transaction, which returns the task's new state, the
notices to send and whether the task must stop. The dead-man rule is decided by
:func:`on_silence`, asked periodically by the engine nodes (the absence of a result is
not a result).

The rules, as the issue states them:

- FAILURE after ``on_failure_after`` consecutive failed executions, then at most once per
  ``repeat_every_s`` while still failing (no storm; null: once);
- RECOVERY at the first success after a FAILURE or NO_SUCCESS alert, with ``on_recovery``;
- MISSED when occurrences are recorded MISSED or SKIPPED, with ``on_missed``: one notice
  per batch of them (a downtime that missed 150 occurrences is one notice saying 150), at
  most once per ``repeat_every_s``;
- NO_SUCCESS when a started task has had no success for ``no_success_within_s`` (counted
  from its last success, or from when it was started if that is later), again at most
  once per ``repeat_every_s`` while the silence lasts;
- AUTO_STOPPED when ``auto_stop_after`` consecutive failures stop the (started) task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from apicron.domain.alert_rules import AlertRules
from apicron.domain.misfire import describe_delay

FINAL = frozenset({"SUCCEEDED", "FAILED"})
NOT_RUN = frozenset({"MISSED", "SKIPPED"})


@dataclass(frozen=True, slots=True)
class AlertState:
    """Where a task stands for its alert rules (one row of ``alert_states``)."""

    task_id: str
    consecutive_failures: int = 0
    alerting: bool = False
    """A FAILURE or NO_SUCCESS alert was sent and no success came since."""
    last_failure_alert_at: datetime | None = None
    last_missed_alert_at: datetime | None = None
    last_success_at: datetime | None = None
    no_success_alert_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertFact:
    """One recorded result of a task: an execution that ended SUCCEEDED or FAILED, or an
    occurrence recorded MISSED or SKIPPED, with the error it ended with."""

    execution_id: str
    task_id: str
    status: str
    at: datetime
    error_kind: str | None = None
    error_msg: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """An event to send to every channel of the task's rules."""

    event: str
    execution_id: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Decision:
    state: AlertState
    notices: list[Notice]
    stop_reason: str | None = None
    """Set when ``auto_stop_after`` stops the task (it is STARTED)."""


def _due(last: datetime | None, repeat_s: int | None, now: datetime) -> bool:
    """An alert may be sent again: never sent, or repeats allowed and their time came."""
    return last is None or (repeat_s is not None and now - last >= timedelta(seconds=repeat_s))


def _failure_text(fact: AlertFact) -> str:
    if fact.error_msg:
        return f"{fact.error_kind or 'FAILED'}: {fact.error_msg}"
    return fact.error_kind or "failed"


def on_results(
    rules: AlertRules, state: AlertState, facts: Sequence[AlertFact], *, task_name: str,
    task_started: bool, now: datetime,
) -> Decision:
    """The task's new state and the notices its results (in the order they were recorded)
    call for."""
    notices: list[Notice] = []
    stop_reason: str | None = None
    not_run: list[AlertFact] = []
    for fact in facts:
        if fact.status in NOT_RUN:
            not_run.append(fact)
            continue
        if fact.status == "SUCCEEDED":
            if state.alerting and rules.on_recovery:
                failures = state.consecutive_failures
                after = (f"after {failures} failed execution{'s' if failures != 1 else ''}"
                         if failures else "after a period without success")
                notices.append(Notice("RECOVERY", fact.execution_id,
                                      f"task {task_name} succeeded again {after}"))
            state = replace(state, consecutive_failures=0, alerting=False,
                            last_success_at=fact.at, last_failure_alert_at=None,
                            no_success_alert_at=None)
            continue
        if fact.status != "FAILED":
            continue
        failures = state.consecutive_failures + 1
        state = replace(state, consecutive_failures=failures)
        threshold = rules.on_failure_after
        if threshold is not None and failures >= threshold and (
            not state.alerting or _due(state.last_failure_alert_at, rules.repeat_every_s, now)
        ):
            notices.append(Notice(
                "FAILURE", fact.execution_id,
                f"task {task_name} failed {failures} time{'s' if failures != 1 else ''} in a "
                f"row; last: {_failure_text(fact)}",
            ))
            state = replace(state, alerting=True, last_failure_alert_at=now)
        limit = rules.auto_stop_after
        if limit is not None and failures >= limit and task_started and stop_reason is None:
            stop_reason = (f"stopped by apicron after {failures} consecutive failed executions "
                           f"(alerts.auto_stop_after = {limit})")
            notices.append(Notice("AUTO_STOPPED", fact.execution_id,
                                  f"task {task_name} was {stop_reason}; last: "
                                  f"{_failure_text(fact)}"))
            task_started = False
    if not_run and rules.on_missed and _due(state.last_missed_alert_at, rules.repeat_every_s,
                                            now):
        latest = max(not_run, key=lambda f: f.at)
        count = len(not_run)
        kinds = "/".join(sorted({f.status for f in not_run}))
        reason = f": {latest.error_msg}" if latest.error_msg else ""
        notices.append(Notice(
            "MISSED", latest.execution_id,
            f"{count} occurrence{'s' if count != 1 else ''} of task {task_name} did not run "
            f"({kinds}){reason}",
        ))
        state = replace(state, last_missed_alert_at=now)
    return Decision(state, notices, stop_reason)


def silent_since(state: AlertState, started_at: datetime) -> datetime:
    """Since when a started task has had no success: its last success, or its start if
    that is later (a task stopped for a week is not silent the moment it is started)."""
    if state.last_success_at is None or state.last_success_at < started_at:
        return started_at
    return state.last_success_at


def on_silence(
    rules: AlertRules, state: AlertState, *, task_name: str, started_at: datetime,
    now: datetime,
) -> Decision | None:
    """The dead-man rule for a started task: a NO_SUCCESS notice when it has had no
    success for ``no_success_within_s`` (None when nothing is due)."""
    window = rules.no_success_within_s
    if window is None:
        return None
    since = silent_since(state, started_at)
    silent = now - since
    if silent < timedelta(seconds=window):
        return None
    last = state.no_success_alert_at
    if last is not None and last >= since and not _due(last, rules.repeat_every_s, now):
        return None
    last_success = (state.last_success_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if state.last_success_at else "never")
    silent_for = describe_delay(silent.total_seconds())
    notice = Notice(
        "NO_SUCCESS", None,
        f"task {task_name} has had no successful execution for {silent_for} "
        f"(alerts.no_success_within_s = {window}); last success: {last_success}",
    )
    return Decision(replace(state, alerting=True, no_success_alert_at=now), [notice])
