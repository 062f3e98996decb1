"""Results become alert events, in the transaction that records them (issue 14).

Every place that records a result calls :func:`record_results` with the open transaction:
the engine's result writer (executions SUCCEEDED or FAILED), its planner (occurrences
MISSED after a downtime), its fence (SKIPPED while the previous run runs, MISSED past the
misfire grace) and a user's stop (due occurrences MISSED). The task's alert state moves
(:mod:`apicron.domain.alert_decisions`), an event per notice and channel goes into the
outbox, and a task its ``auto_stop_after`` rule stops is stopped, all or nothing with the
result itself: a result is never recorded without its alert, nor an alert sent for a result
that was not recorded. The sender (:mod:`apicron.alerts.sender`) delivers them.

The alert work runs under a savepoint: if it fails for a reason that is not a database
outage (a bug, a hand-edited row), the results are still recorded and one ERROR line says
which tasks' alerts were lost. An outage fails the whole transaction, to be retried.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from apicron.domain.alert_decisions import AlertFact, AlertState, Notice, on_results, on_silence
from apicron.domain.alert_rules import AlertRules
from apicron.domain.misfire import stopped_before_fired
from apicron.services.context import new_id
from apicron.services.health import describe
from apicron.store.database import is_unavailable
from apicron.store.records import NewAlertEvent, TaskAlertTarget
from apicron.store.store import Queries

log = logging.getLogger("apicron.alerts")


@dataclass(frozen=True)
class Recorded:
    """What recording some results did: events written, tasks stopped."""

    events: int = 0
    stopped: tuple[str, ...] = ()


_listeners: list[Callable[[], None]] = []


def on_new_events(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` (from any thread) when this process has committed new events,
    so that its sender delivers them at once rather than at its next poll. Returns the
    undo."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def announce(recorded: Recorded) -> None:
    """Tell this process's sender that events were committed (call after the commit)."""
    if recorded.events:
        for listener in list(_listeners):
            listener()


def rules_of(target: TaskAlertTarget, defaults: AlertRules | None) -> AlertRules | None:
    """A task's own rules, or the instance's when it has none; ``None``: no rules (or
    rules stored that no longer read as rules, said once in the log)."""
    if target.alerts is None:
        return defaults
    try:
        return AlertRules.model_validate(target.alerts)
    except ValidationError as error:
        log.error("task %s (%s): its stored alert rules cannot be read (%s); no alerts for it",
                  target.name, target.id, describe(error))
        return None


def record_results(q: Queries, facts: Sequence[AlertFact], now: datetime) -> Recorded:
    """Apply the alert rules to ``facts`` (results recorded in the transaction of ``q``);
    never raises but for a database outage (see the module docstring)."""
    if not facts:
        return Recorded()
    try:
        with q.connection.begin_nested():
            return _record(q, facts, now)
    except Exception as exc:
        if is_unavailable(exc):
            raise
        tasks = sorted({f.task_id for f in facts})
        log.error("the alert rules of %d task(s) could not be applied to %d result(s) (%s); "
                  "those results are recorded without alerts: tasks %s",
                  len(tasks), len(facts), describe(exc), ", ".join(tasks[:10]))
        return Recorded()


def _record(q: Queries, facts: Sequence[AlertFact], now: datetime) -> Recorded:
    targets = q.alert_targets(f.task_id for f in facts)
    if not targets:
        return Recorded()
    defaults = q.default_alerts() if any(t.alerts is None for t in targets.values()) else None
    ruled = {task_id: rules for task_id, target in targets.items()
             if (rules := rules_of(target, defaults)) is not None}
    if not ruled:
        return Recorded()
    stoppable = [task_id for task_id, rules in ruled.items()
                 if rules.auto_stop_after is not None and targets[task_id].status == "STARTED"]
    # Lock order everywhere: the task's row, then its alert state (a user's stop and the
    # planner take them in that order too).
    q.lock_started_tasks(stoppable)
    states = q.lock_alert_states(ruled, now)
    by_task: dict[str, list[AlertFact]] = defaultdict(list)
    for fact in facts:
        if fact.task_id in ruled:
            by_task[fact.task_id].append(fact)
    changed = []
    notices: list[tuple[TaskAlertTarget, AlertRules, Notice]] = []
    stopped: list[str] = []
    for task_id in sorted(by_task):
        target, rules = targets[task_id], ruled[task_id]
        decision = on_results(rules, states[task_id], by_task[task_id], task_name=target.name,
                              task_started=target.status == "STARTED", now=now)
        if decision.state != states[task_id]:
            changed.append(decision.state)
        if decision.stop_reason is not None and q.stop_task_by_rule(
            task_id, decision.stop_reason, now
        ):
            q.discard_pending(task_id, now, lambda at: stopped_before_fired(at, now))
            stopped.append(task_id)
            log.warning("task %s (%s) %s", target.name, task_id, decision.stop_reason)
        notices.extend((target, rules, n) for n in decision.notices
                       if n.event != "AUTO_STOPPED" or task_id in stopped)
    q.save_alert_states(changed, now)
    events = write_notices(q, notices, now)
    return Recorded(events, tuple(stopped))


def write_notices(
    q: Queries, notices: Sequence[tuple[TaskAlertTarget, AlertRules, Notice]], now: datetime
) -> int:
    """Insert an outbox row per notice and channel; returns how many."""
    if not notices:
        return 0
    kinds = q.channel_kinds(c for _, rules, _ in notices for c in rules.channel_ids)
    rows: list[NewAlertEvent] = []
    for target, rules, notice in notices:
        execution = None
        if notice.execution_id is not None:
            found = q.get_execution(notice.execution_id)
            execution = None if found is None else found.model_dump(mode="json")
        for channel_id in rules.channel_ids:
            kind = kinds.get(channel_id)
            if kind is None:
                log.warning("task %s: alert channel %s no longer exists; its %s alert is not "
                            "sent there", target.name, channel_id, notice.event)
                continue
            event_id = new_id()
            rows.append(NewAlertEvent(
                id=event_id, task_id=target.id, task_name=target.name, channel_id=channel_id,
                channel_kind=kind, event=notice.event, execution_id=notice.execution_id,
                message=notice.message, created_at=now,
                payload={
                    "event": notice.event,
                    "event_id": event_id,
                    "task": {"id": target.id, "name": target.name},
                    "execution": execution,
                    "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "message": notice.message,
                },
            ))
    q.insert_alert_events(rows)
    return len(rows)


def check_silent_tasks(q: Queries, now: datetime) -> Recorded:
    """The dead-man rule (``no_success_within_s``) for every started task, in the
    transaction of ``q``: a NO_SUCCESS event for each task silent too long.

    Safe on several nodes at once: each task's alert state is locked and decided again
    under the lock, so one node writes the event and the others find it written.
    """
    defaults = q.default_alerts()
    candidates = q.silent_task_candidates(
        with_defaults=defaults is not None and defaults.no_success_within_s is not None)
    watched = {t.id: (t, rules) for t in candidates
               if (rules := rules_of(t, defaults)) is not None
               and rules.no_success_within_s is not None}
    if not watched:
        return Recorded()
    stored = q.alert_states_of(watched)
    due = [task_id for task_id, (target, rules) in watched.items()
           if on_silence(rules, stored.get(task_id, AlertState(task_id)), task_name=target.name,
                         started_at=target.updated_at, now=now) is not None]
    if not due:
        return Recorded()
    states = q.lock_alert_states(due, now)
    # Decided again under the lock, on the task as it is now (stopped meanwhile: no alert).
    current = q.alert_targets(due)
    notices: list[tuple[TaskAlertTarget, AlertRules, Notice]] = []
    changed: list[AlertState] = []
    for task_id in sorted(due):
        target = current.get(task_id)
        if target is None or target.status != "STARTED":
            continue
        rules = rules_of(target, defaults)
        if rules is None:
            continue
        decision = on_silence(rules, states[task_id], task_name=target.name,
                              started_at=target.updated_at, now=now)
        if decision is None:
            continue
        changed.append(decision.state)
        notices.extend((target, rules, n) for n in decision.notices)
    q.save_alert_states(changed, now)
    return Recorded(write_notices(q, notices, now))
