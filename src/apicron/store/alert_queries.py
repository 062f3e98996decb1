"""The alert queries: channels, each task's alert state, and the alert outbox (issue 14).

The outbox is claimed the way the executions queue is: one conditional ``UPDATE …
RETURNING`` sets a lease (``claimed_by``, ``lease_until``), with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL so that two senders never take the same row; a delivery's outcome is
written only while its sender still holds the row, so an event is delivered by one node
at a time, and a sender killed mid-delivery leaves rows whose lease expires and another
sender (or the restarted one) delivers them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from apicron.domain.alert_decisions import AlertState
from apicron.domain.alert_rules import AlertRules
from apicron.domain.alerting import AlertEvent, Channel
from apicron.domain.vocabulary import UNFINISHED
from apicron.store.records import (
    AlertDeliveryResult,
    ClaimedAlertEvent,
    NewAlertEvent,
    TaskAlertTarget,
    row_values,
)
from apicron.store.tables import alert_events, alert_states, channels, executions, instance, tasks

_CHUNK = 500
_STATE_COLUMNS = tuple(f.name for f in dataclasses.fields(AlertState))
_NEW_STATES: dict[str, Any] = {
    "sqlite": sqlite.insert(alert_states).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(alert_states).on_conflict_do_nothing(),
}
_CHANNEL_COLUMNS = (channels.c.id, channels.c.name, channels.c.kind, channels.c.url_shown,
                    channels.c.description, channels.c.created_at, channels.c.updated_at)
_EVENT_COLUMNS = tuple(c for c in alert_events.c if c.name not in (
    "payload", "claimed_by", "lease_until"))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _channel(row: Mapping[Any, Any]) -> Channel:
    return Channel.model_validate({**row, "url": row["url_shown"]})


class AlertQueries:
    connection: Connection

    # -- channels ------------------------------------------------------------------------------

    _channel_select = select(*_CHANNEL_COLUMNS)

    def get_channel(self, channel_id: str) -> Channel | None:
        row = self.connection.execute(
            self._channel_select.where(channels.c.id == channel_id)
        ).mappings().first()
        return None if row is None else _channel(row)

    def list_channels(
        self, *, kind: str | None, offset: int, limit: int
    ) -> tuple[int, list[Channel]]:
        statement = self._channel_select
        if kind:
            statement = statement.where(channels.c.kind == kind)
        total = self.connection.execute(
            select(func.count()).select_from(statement.subquery())
        ).scalar_one()
        rows = self.connection.execute(
            statement.order_by(channels.c.created_at.desc(), channels.c.id)
            .offset(offset).limit(limit)
        ).mappings()
        return total, [_channel(r) for r in rows]

    def channel_kinds(self, channel_ids: Iterable[str]) -> dict[str, str]:
        """The kind of each of ``channel_ids`` that exists."""
        ids = sorted(set(channel_ids))
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            found.update(self.connection.execute(
                select(channels.c.id, channels.c.kind).where(channels.c.id.in_(chunk))
            ).all())
        return found

    def channel_credentials(self, channel_id: str) -> tuple[str, str, str | None] | None:
        """``(kind, url_encrypted, secret_encrypted)`` of a channel; decrypting is the
        caller's."""
        row = self.connection.execute(
            select(channels.c.kind, channels.c.url_encrypted, channels.c.secret_encrypted)
            .where(channels.c.id == channel_id)
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    def tasks_alerting_to(self, channel_id: str) -> list[str]:
        """The names of the tasks whose own alert rules name ``channel_id``."""
        names = []
        rows = self.connection.execute(
            select(tasks.c.name, tasks.c.alerts).where(tasks.c.alerts.is_not(None))
            .order_by(tasks.c.name)
        )
        for name, alerts in rows:
            if isinstance(alerts, dict) and channel_id in (alerts.get("channel_ids") or ()):
                names.append(name)
        return names

    def default_alerts(self) -> AlertRules | None:
        """The instance's default alert rules (``None``: none, or unreadable)."""
        raw = self.connection.execute(select(instance.c.default_alerts)).scalar_one_or_none()
        return _rules(raw)

    # -- alert states --------------------------------------------------------------------------

    def alert_targets(self, task_ids: Iterable[str]) -> dict[str, TaskAlertTarget]:
        ids = sorted(set(task_ids))
        found: dict[str, TaskAlertTarget] = {}
        for chunk in _chunks(ids):
            rows = self.connection.execute(
                select(tasks.c.id, tasks.c.name, tasks.c.status, tasks.c.updated_at,
                       tasks.c.alerts).where(tasks.c.id.in_(chunk))
            )
            for id_, name, status, updated_at, alerts in rows:
                found[id_] = TaskAlertTarget(id_, name, status, updated_at,
                                             alerts if isinstance(alerts, dict) else None)
        return found

    def lock_alert_states(self, task_ids: Iterable[str], now: datetime) -> dict[str, AlertState]:
        """Each task's alert state (a new one for a task without), locked until the
        transaction ends, so that two nodes recording results of one task apply them one
        after the other."""
        ids = sorted(set(task_ids))
        if not ids:
            return {}
        statement = _NEW_STATES.get(self.connection.dialect.name, insert(alert_states))
        self.connection.execute(statement, [
            {"task_id": i, "consecutive_failures": 0, "alerting": False, "updated_at": now}
            for i in ids
        ])
        found: dict[str, AlertState] = {}
        for chunk in _chunks(ids):
            query = (select(*(alert_states.c[c] for c in _STATE_COLUMNS))
                     .where(alert_states.c.task_id.in_(chunk)).order_by(alert_states.c.task_id))
            if self.connection.dialect.name == "postgresql":
                query = query.with_for_update()
            for row in self.connection.execute(query).mappings():
                found[row["task_id"]] = AlertState(**row)
        return found

    def save_alert_states(self, states: Sequence[AlertState], now: datetime) -> None:
        for state in states:
            values = row_values(state)
            task_id = values.pop("task_id")
            self.connection.execute(
                update(alert_states).where(alert_states.c.task_id == task_id)
                .values(**values, updated_at=now)
            )

    def count_alerting(self) -> int:
        """Tasks with a failure (or dead-man) alert open, across the instance."""
        return int(self.connection.execute(
            select(func.count()).select_from(alert_states).where(alert_states.c.alerting)
        ).scalar_one())

    def silent_task_candidates(self, with_defaults: bool) -> list[TaskAlertTarget]:
        """Started tasks that may have a dead-man rule: those with rules of their own, and
        with ``with_defaults`` every started task (the instance's rules apply to those
        without)."""
        statement = select(tasks.c.id, tasks.c.name, tasks.c.status, tasks.c.updated_at,
                           tasks.c.alerts).where(tasks.c.status == "STARTED")
        if not with_defaults:
            statement = statement.where(tasks.c.alerts.is_not(None))
        return [
            TaskAlertTarget(id_, name, status, updated_at,
                            alerts if isinstance(alerts, dict) else None)
            for id_, name, status, updated_at, alerts in self.connection.execute(
                statement.order_by(tasks.c.id))
        ]

    def alert_states_of(self, task_ids: Iterable[str]) -> dict[str, AlertState]:
        """The stored alert states of ``task_ids`` (unlocked; missing ones are absent)."""
        ids = sorted(set(task_ids))
        found: dict[str, AlertState] = {}
        for chunk in _chunks(ids):
            rows = self.connection.execute(
                select(*(alert_states.c[c] for c in _STATE_COLUMNS))
                .where(alert_states.c.task_id.in_(chunk))
            ).mappings()
            found.update((r["task_id"], AlertState(**r)) for r in rows)
        return found

    def lock_started_tasks(self, task_ids: Iterable[str]) -> None:
        """Lock the rows of those of ``task_ids`` that are STARTED (PostgreSQL; SQLite's
        write lock does it), before their alert states: the order a user's stop takes."""
        ids = sorted(set(task_ids))
        if not ids or self.connection.dialect.name != "postgresql":
            return
        for chunk in _chunks(ids):
            self.connection.execute(
                select(tasks.c.id).where(tasks.c.id.in_(chunk), tasks.c.status == "STARTED")
                .order_by(tasks.c.id).with_for_update(key_share=True)
            ).all()

    def unfinished_held(self, execution_ids: Iterable[str], node: str) -> dict[str, str]:
        """Of ``execution_ids``, those still unfinished and held by ``node`` (or by nobody),
        with their task: the ones whose outcome ``node`` writes now (see
        ``update_executions(held_by=…)``)."""
        ids = sorted(set(execution_ids))
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            found.update(self.connection.execute(
                select(executions.c.id, executions.c.task_id).where(
                    executions.c.id.in_(chunk),
                    executions.c.status.in_(UNFINISHED),
                    or_(executions.c.claimed_by == node, executions.c.claimed_by.is_(None)),
                )
            ).all())
        return found

    def pending_tasks(self, execution_ids: Iterable[str]) -> dict[str, str]:
        """Of ``execution_ids``, those still PENDING, with their task (what
        ``close_pending`` will close)."""
        ids = sorted(set(execution_ids))
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            found.update(self.connection.execute(
                select(executions.c.id, executions.c.task_id)
                .where(executions.c.id.in_(chunk), executions.c.status == "PENDING")
            ).all())
        return found

    def due_pending(self, task_id: str, now: datetime) -> list[str]:
        """A task's planned SCHEDULE executions due by ``now`` that have not started (what a
        stop records MISSED)."""
        return list(self.connection.execute(
            select(executions.c.id).where(
                executions.c.task_id == task_id, executions.c.status == "PENDING",
                executions.c.trigger == "SCHEDULE", executions.c.scheduled_at <= now)
        ).scalars())

    def stop_task_by_rule(self, task_id: str, reason: str, now: datetime) -> bool:
        """Stop a STARTED task with ``reason`` (its planned occurrences are the caller's to
        discard); False if it was not STARTED any more."""
        result = self.connection.execute(
            update(tasks).where(tasks.c.id == task_id, tasks.c.status == "STARTED")
            .values(status="STOPPED", next_fire_time=None, claimed_until=None,
                    stop_reason=reason, updated_at=now)
        )
        return bool(result.rowcount)

    # -- the outbox ----------------------------------------------------------------------------

    def insert_alert_events(self, rows: Sequence[NewAlertEvent]) -> None:
        if rows:
            self.connection.execute(insert(alert_events), [
                {**row_values(r), "status": "PENDING", "attempts": 0,
                 "next_attempt_at": r.created_at}
                for r in rows
            ])

    def claim_alert_events(
        self, node: str, now: datetime, lease_until: datetime, limit: int, *,
        all_foreign: bool,
    ) -> list[ClaimedAlertEvent]:
        """Take PENDING events due for (another) attempt that no live sender holds.

        ``all_foreign`` also takes those another node holds, which is right on start-up of
        a single-node (SQLite) instance: no other sender can be alive.
        """
        free = or_(alert_events.c.claimed_by.is_(None), alert_events.c.lease_until < now)
        if all_foreign:
            free = or_(free, alert_events.c.claimed_by != node)
        candidates = (
            select(alert_events.c.id)
            .where(alert_events.c.status == "PENDING", alert_events.c.next_attempt_at <= now,
                   free)
            .order_by(alert_events.c.next_attempt_at, alert_events.c.id)
            .limit(limit)
        )
        if self.connection.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        claimed_ids = list(self.connection.execute(
            update(alert_events)
            .where(alert_events.c.id.in_(candidates.scalar_subquery()))
            .values(claimed_by=node, lease_until=lease_until)
            .returning(alert_events.c.id)
        ).scalars())
        if not claimed_ids:
            return []
        rows = self.connection.execute(
            select(alert_events.c.id, alert_events.c.channel_id, alert_events.c.channel_kind,
                   alert_events.c.event, alert_events.c.task_name, alert_events.c.message,
                   alert_events.c.payload, alert_events.c.attempts,
                   channels.c.url_encrypted, channels.c.secret_encrypted)
            .join_from(alert_events, channels, channels.c.id == alert_events.c.channel_id,
                       isouter=True)
            .where(alert_events.c.id.in_(claimed_ids))
            .order_by(alert_events.c.created_at, alert_events.c.id)
        ).mappings()
        return [ClaimedAlertEvent(**r) for r in rows]

    def finish_alert_deliveries(
        self, node: str, results: Sequence[AlertDeliveryResult]
    ) -> set[str]:
        """Record delivery attempts, each only while ``node`` still holds its event (a
        sender whose lease lapsed does not overwrite the one that took over). Returns the
        ids recorded."""
        recorded: set[str] = set()
        for r in results:
            if r.sent:
                values: dict[str, Any] = {"status": "SENT", "sent_at": r.at, "last_error": None}
            elif r.next_attempt_at is None:
                values = {"status": "FAILED", "last_error": r.error}
            else:
                values = {"last_error": r.error, "next_attempt_at": r.next_attempt_at}
            result = self.connection.execute(
                update(alert_events)
                .where(alert_events.c.id == r.id, alert_events.c.claimed_by == node,
                       alert_events.c.status == "PENDING")
                .values(**values, attempts=r.attempts, claimed_by=None, lease_until=None)
            )
            if result.rowcount:
                recorded.add(r.id)
        return recorded

    def release_alert_events(self, node: str) -> int:
        """Hand back what ``node`` holds (a graceful stop): others take it at once."""
        return self.connection.execute(
            update(alert_events)
            .where(alert_events.c.claimed_by == node, alert_events.c.status == "PENDING")
            .values(claimed_by=None, lease_until=None)
        ).rowcount

    def fail_alert_events_of_channel(self, channel_id: str, message: str) -> int:
        """A deleted channel's undelivered events will not be delivered: FAILED, saying so."""
        return self.connection.execute(
            update(alert_events)
            .where(alert_events.c.channel_id == channel_id, alert_events.c.status == "PENDING")
            .values(status="FAILED", last_error=message, claimed_by=None, lease_until=None)
        ).rowcount

    def list_alert_events(
        self, *, task_id: str | None, status: str | None, event: str | None,
        channel_id: str | None, offset: int, limit: int,
    ) -> tuple[int, list[AlertEvent]]:
        conditions = []
        if task_id:
            conditions.append(alert_events.c.task_id == task_id)
        if status:
            conditions.append(alert_events.c.status == status)
        if event:
            conditions.append(alert_events.c.event == event)
        if channel_id:
            conditions.append(alert_events.c.channel_id == channel_id)
        where = and_(True, *conditions)
        total = self.connection.execute(
            select(func.count()).select_from(alert_events).where(where)
        ).scalar_one()
        rows = self.connection.execute(
            select(*_EVENT_COLUMNS).where(where)
            .order_by(alert_events.c.created_at.desc(), alert_events.c.id)
            .offset(offset).limit(limit)
        ).mappings()
        return total, [AlertEvent.model_validate(dict(r)) for r in rows]

    def prune_alert_events(self, older_than: datetime) -> int:
        """Delete delivered or given-up events created before ``older_than``."""
        return self.connection.execute(
            alert_events.delete().where(alert_events.c.status != "PENDING",
                                        alert_events.c.created_at < older_than)
        ).rowcount

    def execution_task_ids(self, execution_ids: Iterable[str]) -> dict[str, str]:
        """The task of each of ``execution_ids`` that still exists."""
        ids = sorted(set(execution_ids))
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            found.update(self.connection.execute(
                select(executions.c.id, executions.c.task_id).where(executions.c.id.in_(chunk))
            ).all())
        return found


def _rules(raw: object) -> AlertRules | None:
    """Stored alert rules as the domain's record; ``None`` for none or a value that no
    longer reads as rules (a hand-edited row must not cost the results it is recorded
    with; the caller says so)."""
    if raw is None:
        return None
    try:
        return AlertRules.model_validate(raw)
    except ValidationError:
        return None
