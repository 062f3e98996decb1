"""Typed records the engine and the store exchange (what crosses the store boundary).

The engine builds these; the execution queries write them. A frozen dataclass per kind of
row makes the contract visible and checked, where dicts would let a misspelt column pass
until the database refuses it (APScheduler 4 does the same with its ``_structures``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


def row_values(record: Any) -> dict[str, Any]:
    """A record's fields as ``{column: value}``, the values not copied.

    Not ``dataclasses.asdict``: it deep-copies every value (each datetime of every row),
    which was 4 % of a saturated engine's CPU at 500 calls a second (py-spy, issue 20). The
    records are frozen and their values immutable, so nothing needs copying.
    """
    return {name: getattr(record, name) for name in _field_names(type(record))}


@dataclass(frozen=True, slots=True)
class NewExecution:
    """One execution row to insert: a planned occurrence (PENDING, held by the planning
    node under a lease) or one that will not run (MISSED, finished at once)."""

    id: str
    task_id: str
    scheduled_at: datetime
    status: str
    created_at: datetime
    trigger: str = "SCHEDULE"
    finished_at: datetime | None = None
    error_msg: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None
    note: str | None = None
    planned_at: datetime | None = None
    """When the engine fires it: ``scheduled_at`` plus the task's jitter (issue 18)."""
    # Issue 18: the execution a REPLAY re-runs; a SEQUENTIAL backfill's shared id.
    replay_of: str | None = None
    sequence_id: str | None = None


@dataclass(frozen=True, slots=True)
class TaskAdvance:
    """A claimed task's next fire time after planning, and the claim released.

    ``previous`` is the next fire time the task was claimed with: the advance applies only
    if it is unchanged, so a stop or start that came in between wins. ``next_fire_time``
    None stops the task, with ``stop_reason`` saying why; unless ``awaiting_run``: a
    one-off task whose occurrence is planned stays STARTED until that run is over (issue 18).
    """

    task_id: str
    previous: datetime | None
    next_fire_time: datetime | None
    stop_reason: str | None = None
    awaiting_run: bool = False

    @property
    def status(self) -> str:
        started = self.next_fire_time is not None or self.awaiting_run
        return "STARTED" if started else "STOPPED"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of an execution, as the dispatcher saw it."""

    execution_id: str
    number: int
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    http_status: int | None
    error_kind: str | None
    error_msg: str | None
    response_excerpt: str | None
    node_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionProgress:
    """An attempt failed and another follows: the execution stays RUNNING."""

    execution_id: str
    attempts: int
    error_kind: str | None
    error_msg: str | None


@dataclass(frozen=True, slots=True)
class ExecutionOutcome:
    """An execution ended (SUCCEEDED, FAILED, MISSED): its final state; the claim is
    released."""

    execution_id: str
    status: str
    attempts: int
    finished_at: datetime
    error_kind: str | None = None
    error_msg: str | None = None


ExecutionChange = ExecutionProgress | ExecutionOutcome


@dataclass(frozen=True, slots=True)
class QueuedExecution:
    """An unfinished execution taken from the queue (a manual run, handed-back work or an
    orphan of a dead engine), now claimed by this node."""

    id: str
    task_id: str
    scheduled_at: datetime
    trigger: str
    status: str
    attempts: int
    started_at: datetime | None
    note: str | None = None
    planned_at: datetime | None = None
    sequence_id: str | None = None


@dataclass(frozen=True, slots=True)
class UnreadableTask:
    """A claimed task whose stored row no longer reads as a task (hand-edited, or written
    by a buggy version): the engine stops it with the reason instead of failing the claim
    of every other task."""

    id: str
    name: str
    next_fire_time: datetime | None
    error: str


@dataclass(frozen=True, slots=True)
class UserCredentials:
    """What sign-in needs of a user: the Argon2id hash (None: no password sign-in)."""

    id: str
    username: str
    display_name: str
    role: str
    disabled: bool
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """A personal API token found by its hash, with its user's standing."""

    token_id: str
    token_name: str
    token_role: str
    expires_at: datetime
    last_used_at: datetime | None
    user_id: str
    username: str
    display_name: str
    user_role: str
    user_disabled: bool


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A console session row, with its user's standing (None for a root session)."""

    id: str
    actor_kind: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    flashes: list[tuple[str, str]]
    reveal_encrypted: str | None
    user_id: str | None
    username: str | None
    display_name: str | None
    role: str | None
    disabled: bool | None


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    """One audit row to insert (``changes``: field → {"before", "after"}, redacted)."""

    at: datetime
    actor: str
    actor_kind: str
    action: str
    resource_type: str
    resource_id: str | None = None
    resource_name: str | None = None
    changes: dict[str, object] | None = None
    token_name: str | None = None
    user_id: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class TaskAlertTarget:
    """What the alert decisions need of a task: its name, whether it is STARTED (and since
    when: a started task cannot be edited, so its ``updated_at`` is its start), and its own
    alert rules as stored (``None``: the instance's default rules apply)."""

    id: str
    name: str
    status: str
    updated_at: datetime
    alerts: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class NewAlertEvent:
    """One outbox row: an event for one channel, with the webhook body it will carry."""

    id: str
    task_id: str
    task_name: str
    channel_id: str
    channel_kind: str
    event: str
    execution_id: str | None
    message: str
    payload: dict[str, object]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedAlertEvent:
    """An outbox row a sender claimed, with its channel's encrypted URL and secret (the
    sender decrypts them only to deliver)."""

    id: str
    channel_id: str
    channel_kind: str
    event: str
    task_name: str
    message: str
    payload: dict[str, object]
    attempts: int
    url_encrypted: str | None = field(repr=False)
    secret_encrypted: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class AlertDeliveryResult:
    """How one delivery attempt went: sent, or failed with a retry at ``next_attempt_at``
    (None: given up, the event is FAILED)."""

    id: str
    sent: bool
    attempts: int
    at: datetime
    error: str | None = None
    next_attempt_at: datetime | None = None
