"""The rows services hand the store to insert, and the changes they hand it to update.

Per table: ``<Name>Row``, a whole row to insert, and ``<Name>Changes`` (``total=False``),
the columns one update may set. They are :class:`typing.TypedDict` on purpose, where the
engine's records (:mod:`apicron.store.records`) are frozen dataclasses: at runtime a
TypedDict *is* the plain dict the store always took (``insert(table).values(**row)``), so
the SQL and the behaviour cannot change, while ``mypy --strict`` checks every key and every
value at every call site: a misspelt column (``"updated_on"``), a missing one, or a status
outside :mod:`apicron.domain.vocabulary` is refused before anything runs, instead of when
the database refuses it (or, for a nullable column, never).

Rules kept by ``tests/test_store_rows.py`` against :mod:`apicron.store.tables`:

- A ``Row``'s keys are exactly its table's columns. A key is ``NotRequired`` only where
  the database fills the column when it is left out (nullable, or a server default), and
  only where some insert leaves it out; every other column must be given.
- A ``Changes``' keys are some of its table's columns.

Value types follow the columns: times are aware UTC ``datetime`` (:class:`UTCDateTime`
refuses naive ones), a nullable column is ``X | None``, a closed set is its ``Literal``.

No ``from __future__ import annotations`` here: on Python 3.11 a TypedDict only sees
``NotRequired`` in an evaluated annotation (``__optional_keys__``, which the test reads).
"""

from datetime import datetime
from typing import Any, NotRequired, TypedDict

from apicron.domain.vocabulary import (
    ActorKind,
    AfterCompletion,
    AuthType,
    CalendarPolicy,
    ChannelKind,
    IntervalUnit,
    JitterMode,
    Method,
    MisfirePolicy,
    OverlapPolicy,
    Role,
    TaskStatus,
    TriggerType,
    Weekday,
)

JsonObject = dict[str, Any]
"""A JSON column holding an object, as a pydantic model's ``model_dump(mode="json")``
gives it (its inner shape is the model's, checked where the model is)."""

# --- instance (one row, made by ``ensure_instance``: only changed) -------------------------


class InstanceChanges(TypedDict, total=False):
    """What ``update_instance`` may set (``default_alerts``: an AlertRules dump, or None)."""

    name: str
    app_route: bool
    app_secret: bool
    timezone: str
    updated_at: datetime
    replay_guard: bool
    unsigned_payload: bool
    default_alerts: JsonObject | None


# --- integration apps, API groups, APIs, grants ---------------------------------------------


class AppRow(TypedDict):
    """A new integration app (``secret_encrypted``: sealed with APICRON_SECRET_KEY)."""

    id: str
    name: str
    description: str
    key: str
    secret_encrypted: str
    created_at: datetime
    updated_at: datetime


class AppChanges(TypedDict, total=False):
    """What ``update_app`` may set."""

    name: str
    description: str
    secret_encrypted: str
    updated_at: datetime


class GroupRow(TypedDict):
    """A new API group (``domain``: the Host routing to it when app_route is off)."""

    id: str
    name: str
    description: str
    app_id: str
    domain: str
    created_at: datetime
    updated_at: datetime


class GroupChanges(TypedDict, total=False):
    """What ``update_group`` may set."""

    name: str
    description: str
    updated_at: datetime


class ApiRow(TypedDict):
    """A new API, a draft: the ``published_*`` columns are given as None (a JSON column
    given None stores JSON null, which the store never reads: ``published_at`` decides)."""

    id: str
    group_id: str
    name: str
    description: str
    method: Method
    path: str
    auth_type: AuthType
    backend_url: str
    backend_timeout_ms: int
    published_snapshot: JsonObject | None
    published_at: datetime | None
    published_route: str | None
    created_at: datetime
    updated_at: datetime


class ApiChanges(TypedDict, total=False):
    """What ``update_api`` and ``publish_api`` may set (``published_snapshot``: a
    PublishedApi dump; ``published_route``: its ``route_key``)."""

    name: str
    description: str
    method: Method
    path: str
    auth_type: AuthType
    backend_url: str
    backend_timeout_ms: int
    published_snapshot: JsonObject | None
    published_at: datetime | None
    published_route: str | None
    updated_at: datetime


class GrantRow(TypedDict):
    """A new grant (app-auth): ``app_id`` may call ``api_id``."""

    id: str
    app_id: str
    api_id: str
    created_at: datetime


# --- tasks ----------------------------------------------------------------------------------


class TaskSpecColumns(TypedDict):
    """The columns a task's spec (``TaskFields``, normalised) fills, on create and on every
    edit alike; JSON ones as their models' JSON dumps (``request``: TaskRequest,
    ``success``: SuccessConditions, ``alerts``: AlertRules)."""

    name: str
    app_id: str
    description: str
    effective_time: datetime
    end_time: datetime | None
    timezone: str
    trigger_type: TriggerType
    cron_expression: str | None
    interval_unit: IntervalUnit | None
    interval_value: int | None
    max_retries: int
    api_id: str
    request: JsonObject
    misfire_policy: MisfirePolicy
    overlap_policy: OverlapPolicy
    success: JsonObject | None
    alerts: JsonObject | None
    run_at: datetime | None
    after_completion: AfterCompletion
    jitter_s: int
    jitter_mode: JitterMode
    timeout_ms: int | None
    retry_backoff_base_ms: int | None
    retry_backoff_cap_ms: int | None
    calendar_ids: list[str]
    calendar_policy: CalendarPolicy
    tags: dict[str, str]


class TaskLifecycle(TypedDict):
    """The columns of a new task its spec does not fill. A new task is never claimed nor
    stopped, so ``claimed_until`` and ``stop_reason`` are left to be NULL."""

    id: str
    effective_wall: datetime | None
    status: TaskStatus
    next_fire_time: datetime | None
    created_at: datetime
    updated_at: datetime
    claimed_until: NotRequired[datetime | None]
    stop_reason: NotRequired[str | None]


class TaskRow(TaskSpecColumns, TaskLifecycle):
    """A new task: ``{**spec, **lifecycle}``. (Two TypedDicts, not one literal with the
    spec unpacked into it: ``mypy --strict`` refuses a ``**`` item that may leave out a
    non-required key unless another ``**`` item declares it.)"""


class TaskChanges(TypedDict, total=False):
    """What ``update_task`` may set: the spec on an edit, the lifecycle on start and stop,
    the next fire time when a calendar edit re-plans the task."""

    name: str
    app_id: str
    description: str
    effective_time: datetime
    end_time: datetime | None
    timezone: str
    trigger_type: TriggerType
    cron_expression: str | None
    interval_unit: IntervalUnit | None
    interval_value: int | None
    max_retries: int
    api_id: str
    request: JsonObject
    misfire_policy: MisfirePolicy
    overlap_policy: OverlapPolicy
    success: JsonObject | None
    alerts: JsonObject | None
    run_at: datetime | None
    after_completion: AfterCompletion
    jitter_s: int
    jitter_mode: JitterMode
    timeout_ms: int | None
    retry_backoff_base_ms: int | None
    retry_backoff_cap_ms: int | None
    calendar_ids: list[str]
    calendar_policy: CalendarPolicy
    tags: dict[str, str]
    effective_wall: datetime | None
    status: TaskStatus
    next_fire_time: datetime | None
    stop_reason: str | None
    updated_at: datetime


# --- alert channels and business calendars ---------------------------------------------------


class ChannelRow(TypedDict):
    """A new alert channel: URL and signing secret sealed, ``url_shown`` masked."""

    id: str
    name: str
    kind: ChannelKind
    description: str
    url_encrypted: str
    url_shown: str
    secret_encrypted: str | None
    created_at: datetime
    updated_at: datetime


class ChannelChanges(TypedDict, total=False):
    """What ``update_channel`` may set (the kind never changes)."""

    name: str
    description: str
    url_encrypted: str
    url_shown: str
    secret_encrypted: str | None
    updated_at: datetime


class CalendarRow(TypedDict):
    """A new business calendar: date entries as ISO text (``"2027-12-24"``,
    ``"2027-12-24..2027-12-31"``); ``holidays``: a HolidaySource dump, or None."""

    id: str
    name: str
    description: str
    exclude_dates: list[str]
    exclude_weekdays: list[Weekday]
    holidays: JsonObject | None
    include_dates: list[str]
    created_at: datetime
    updated_at: datetime


class CalendarChanges(TypedDict, total=False):
    """What ``update_calendar`` may set."""

    name: str
    description: str
    exclude_dates: list[str]
    exclude_weekdays: list[Weekday]
    holidays: JsonObject | None
    include_dates: list[str]
    updated_at: datetime


# --- users, API tokens, console sessions ------------------------------------------------------


class UserRow(TypedDict):
    """A new user (``password_hash``: Argon2id, or None: API tokens only)."""

    id: str
    username: str
    display_name: str
    role: Role
    disabled: bool
    password_hash: str | None
    created_at: datetime
    updated_at: datetime


class UserChanges(TypedDict, total=False):
    """What ``update_user`` may set (the username never changes)."""

    display_name: str
    role: Role
    disabled: bool
    password_hash: str | None
    updated_at: datetime


class TokenRow(TypedDict):
    """A new personal API token: only the SHA-256 of the token itself is kept."""

    id: str
    user_id: str
    name: str
    token_hash: str
    role: Role
    expires_at: datetime
    created_at: datetime
    last_used_at: datetime | None


class SessionRow(TypedDict):
    """A new console session (``id``: the SHA-256 of the cookie; ``user_id`` None for a
    root session)."""

    id: str
    user_id: str | None
    actor_kind: ActorKind
    csrf: str
    address: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    flashes: list[tuple[str, str]] | None
    reveal_encrypted: str | None


class SessionChanges(TypedDict, total=False):
    """What ``update_session`` may set: ``flashes`` as (kind, message) pairs (stored as
    JSON arrays), ``reveal_encrypted`` the sealed secret shown once on the next page."""

    last_seen_at: datetime
    flashes: list[tuple[str, str]] | None
    reveal_encrypted: str | None


# --- nodes ------------------------------------------------------------------------------------


class NodeRow(TypedDict):
    """A running apicron process, as ``register_node`` and ``heartbeat`` write it."""

    id: str
    # One of vocabulary.NodeRole, checked when `apicron serve` starts (server.serve); the
    # Context carries it as a plain str, so it is not narrowed to the Literal here.
    role: str
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
