"""Every operation of the management REST API, described once.

Each function here builds a :class:`Call` (method, path, query, JSON body, and how to read
the answer) and performs no I/O; :mod:`apicron.client.clients` binds every one of them to
the sync :class:`~apicron.client.Client` and the :class:`~apicron.client.AsyncClient`
alike, so the two cannot drift apart. Names follow DESIGN.md's contract (``create_task``
is ``POST /v1/tasks``); request bodies are the domain's input models and answers its
records, so a value the server would refuse is refused here already with the same message
(validation lives in ``apicron.domain``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from apicron.client.pages import PAGE_DEFAULT
from apicron.domain.accounts import (
    AuditEntry,
    Me,
    MeUpdate,
    Token,
    TokenCreate,
    TokenWithSecret,
    User,
    UserCreate,
    UserUpdate,
)
from apicron.domain.alerting import (
    AlertEvent,
    Channel,
    ChannelCreate,
    ChannelTestResult,
    ChannelUpdate,
    ChannelWithSecret,
)
from apicron.domain.backfill import BackfillRequest, BackfillResult
from apicron.domain.calendars import Calendar, CalendarCreate, CalendarUpdate
from apicron.domain.models import (
    Api,
    ApiCreate,
    ApiUpdate,
    App,
    AppCreate,
    AppUpdate,
    AppWithSecret,
    Execution,
    Grant,
    GrantCreate,
    GrantItems,
    Group,
    GroupCreate,
    GroupUpdate,
    Instance,
    InstanceUpdate,
    Node,
    Page,
    Preview,
    PreviewRequest,
    Record,
    Task,
    TaskCreate,
    TaskUpdate,
)
from apicron.domain.task_actions import BulkAction, BulkResult, TaskClone, TaskStop
from apicron.domain.validation import validate
from apicron.domain.vocabulary import (
    AlertEventKind,
    AlertStatus,
    ChannelKind,
    ExecutionStatus,
    TaskStatus,
)

R = TypeVar("R")


@dataclass(frozen=True)
class Call(Generic[R]):
    """One request: ``method`` and ``path`` (under the server's URL), query ``params`` (None
    values are left out), a JSON ``body`` (None: no body) and ``decode``, which turns a
    successful answer into ``R`` (raising ``ValueError`` when it cannot)."""

    method: str
    path: str
    decode: Callable[[httpx.Response], R]
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None

    def query(self) -> httpx.QueryParams:
        """The query string's parameters: None left out, booleans as ``true``/``false``,
        datetimes in RFC 3339; a list value repeats its parameter (``tag=a=1&tag=b=2``)."""
        clean: dict[str, str] = {}
        repeated: list[tuple[str, str]] = []
        for name, value in self.params.items():
            if value is None:
                continue
            if isinstance(value, list | tuple):
                repeated.extend((name, str(v)) for v in value)
                continue
            if isinstance(value, bool):
                clean[name] = "true" if value else "false"
            elif isinstance(value, datetime):
                clean[name] = value.isoformat()
            else:
                clean[name] = str(value)
        return httpx.QueryParams([*clean.items(), *repeated])


@cache
def _adapter(kind: Hashable) -> TypeAdapter[Any]:
    return TypeAdapter(cast(Any, kind))


def record(kind: type[R]) -> Callable[[httpx.Response], R]:
    """Read the answer's JSON as ``kind`` (a domain record, ``Page[…]``, ``list[…]``)."""

    def decode(response: httpx.Response) -> R:
        value: R = _adapter(cast(Hashable, kind)).validate_json(response.content)
        return value

    return decode


def no_content(response: httpx.Response) -> None:
    """A 204 answer: nothing to read."""


def text(response: httpx.Response) -> str:
    return response.text


def _body(model: BaseModel) -> Any:
    # Only the fields the caller set: the server fills the defaults, and an update changes
    # exactly what was given (an explicit None clears an optional field).
    return model.model_dump(mode="json", exclude_unset=True)


def _id(value: str) -> str:
    return quote(value, safe="")


# --- instance -----------------------------------------------------------------------------


def get_instance() -> Call[Instance]:
    """``GET /v1/instance``: name, parameters ``app_route``/``app_secret``, default time
    zone and the gateway's URL."""
    return Call("GET", "/v1/instance", record(Instance))


def update_instance(patch: InstanceUpdate) -> Call[Instance]:
    """``PUT /v1/instance``: change the fields given only."""
    return Call("PUT", "/v1/instance", record(Instance), body=_body(patch))


# --- integration apps ---------------------------------------------------------------------


def create_app(app: AppCreate) -> Call[AppWithSecret]:
    """``POST /v1/apps``: the answer carries the generated ``secret``, shown only here and
    by :func:`reset_app_secret`."""
    return Call("POST", "/v1/apps", record(AppWithSecret), body=_body(app))


def list_apps(
    *, name: str | None = None, offset: int = 0, limit: int = PAGE_DEFAULT
) -> Call[Page[App]]:
    """``GET /v1/apps``: one page; ``name`` matches a case-insensitive substring."""
    return Call("GET", "/v1/apps", record(Page[App]),
                params={"name": name, "offset": offset, "limit": limit})


def get_app(app_id: str) -> Call[App]:
    """``GET /v1/apps/{id}`` (without the secret). NotFound for an unknown id."""
    return Call("GET", f"/v1/apps/{_id(app_id)}", record(App))


def update_app(app_id: str, patch: AppUpdate) -> Call[App]:
    """``PUT /v1/apps/{id}``: rename or change the description."""
    return Call("PUT", f"/v1/apps/{_id(app_id)}", record(App), body=_body(patch))


def delete_app(app_id: str) -> Call[None]:
    """``DELETE /v1/apps/{id}``: Conflict while the app owns API groups or tasks."""
    return Call("DELETE", f"/v1/apps/{_id(app_id)}", no_content)


def reset_app_secret(app_id: str) -> Call[AppWithSecret]:
    """``POST /v1/apps/{id}/reset-secret``: a new secret; the old one stops working."""
    return Call("POST", f"/v1/apps/{_id(app_id)}/reset-secret", record(AppWithSecret))


# --- API groups ---------------------------------------------------------------------------


def create_group(group: GroupCreate) -> Call[Group]:
    """``POST /v1/api-groups``: a group owned by an app (its APIs are the app's)."""
    return Call("POST", "/v1/api-groups", record(Group), body=_body(group))


def list_groups(
    *, name: str | None = None, app_id: str | None = None, offset: int = 0,
    limit: int = PAGE_DEFAULT,
) -> Call[Page[Group]]:
    """``GET /v1/api-groups``: one page, filtered by name substring and owning app."""
    return Call("GET", "/v1/api-groups", record(Page[Group]),
                params={"name": name, "app_id": app_id, "offset": offset, "limit": limit})


def get_group(group_id: str) -> Call[Group]:
    """``GET /v1/api-groups/{id}``."""
    return Call("GET", f"/v1/api-groups/{_id(group_id)}", record(Group))


def update_group(group_id: str, patch: GroupUpdate) -> Call[Group]:
    """``PUT /v1/api-groups/{id}``: rename or change the description (not the app)."""
    return Call("PUT", f"/v1/api-groups/{_id(group_id)}", record(Group), body=_body(patch))


def delete_group(group_id: str) -> Call[None]:
    """``DELETE /v1/api-groups/{id}``: Conflict while the group has APIs."""
    return Call("DELETE", f"/v1/api-groups/{_id(group_id)}", no_content)


# --- APIs ---------------------------------------------------------------------------------


def create_api(api: ApiCreate, *, publish: bool = False) -> Call[Api]:
    """``POST /v1/apis``; ``publish=True`` creates and publishes it in one transaction
    (both happen or neither: a route another published API serves is a Conflict)."""
    body = _body(api)
    if publish:
        body["publish"] = True
    return Call("POST", "/v1/apis", record(Api), body=body)


def list_apis(
    *, name: str | None = None, group_id: str | None = None, app_id: str | None = None,
    published: bool | None = None, offset: int = 0, limit: int = PAGE_DEFAULT,
) -> Call[Page[Api]]:
    """``GET /v1/apis``: one page, filtered by name substring, group, app, published."""
    return Call("GET", "/v1/apis", record(Page[Api]), params={
        "name": name, "group_id": group_id, "app_id": app_id, "published": published,
        "offset": offset, "limit": limit,
    })


def get_api(api_id: str) -> Call[Api]:
    """``GET /v1/apis/{id}``: the draft (the gateway serves the last published snapshot)."""
    return Call("GET", f"/v1/apis/{_id(api_id)}", record(Api))


def update_api(api_id: str, patch: ApiUpdate) -> Call[Api]:
    """``PUT /v1/apis/{id}``: edit the draft; a published API serves it after a publish."""
    return Call("PUT", f"/v1/apis/{_id(api_id)}", record(Api), body=_body(patch))


def delete_api(api_id: str) -> Call[None]:
    """``DELETE /v1/apis/{id}``: Conflict while published or called by a task."""
    return Call("DELETE", f"/v1/apis/{_id(api_id)}", no_content)


def publish_api(api_id: str) -> Call[Api]:
    """``POST /v1/apis/{id}/publish``: the gateway serves this version of the draft."""
    return Call("POST", f"/v1/apis/{_id(api_id)}/publish", record(Api))


def unpublish_api(api_id: str) -> Call[Api]:
    """``POST /v1/apis/{id}/unpublish``: the gateway stops serving it."""
    return Call("POST", f"/v1/apis/{_id(api_id)}/unpublish", record(Api))


# --- grants (app-auths) -------------------------------------------------------------------


def create_grants(grant: GrantCreate) -> Call[GrantItems]:
    """``POST /v1/app-auths``: let ``app_id`` call each of ``api_ids`` (all or nothing)."""
    return Call("POST", "/v1/app-auths", record(GrantItems), body=_body(grant))


def list_grants(
    *, app_id: str | None = None, api_id: str | None = None, offset: int = 0,
    limit: int = PAGE_DEFAULT,
) -> Call[Page[Grant]]:
    """``GET /v1/app-auths``: one page, filtered by app and API."""
    return Call("GET", "/v1/app-auths", record(Page[Grant]),
                params={"app_id": app_id, "api_id": api_id, "offset": offset, "limit": limit})


def delete_grant(grant_id: str) -> Call[None]:
    """``DELETE /v1/app-auths/{id}``: tasks relying on it fail at their next fire."""
    return Call("DELETE", f"/v1/app-auths/{_id(grant_id)}", no_content)


# --- scheduled tasks ----------------------------------------------------------------------


def create_task(task: TaskCreate) -> Call[Task]:
    """``POST /v1/tasks``: created INITIALIZED; :func:`start_task` makes it fire."""
    return Call("POST", "/v1/tasks", record(Task), body=_body(task))


def list_tasks(
    *, name: str | None = None, status: TaskStatus | None = None, app_id: str | None = None,
    api_id: str | None = None, offset: int = 0, limit: int = PAGE_DEFAULT,
    tags: Mapping[str, str] | None = None, name_prefix: str | None = None,
) -> Call[Page[Task]]:
    """``GET /v1/tasks``: one page, filtered by name substring, status, app and API, and
    (issue 18) carrying every tag in ``tags`` and named with ``name_prefix``."""
    return Call("GET", "/v1/tasks", record(Page[Task]), params={
        "name": name, "status": status, "app_id": app_id, "api_id": api_id,
        "offset": offset, "limit": limit, "name_prefix": name_prefix,
        "tag": [f"{k}={v}" for k, v in tags.items()] if tags else None,
    })


def get_task(task_id: str) -> Call[Task]:
    """``GET /v1/tasks/{id}``: with its schedule in words and its last execution."""
    return Call("GET", f"/v1/tasks/{_id(task_id)}", record(Task))


def update_task(task_id: str, patch: TaskUpdate) -> Call[Task]:
    """``PUT /v1/tasks/{id}``: change the fields given; Conflict (``TASK_STARTED``) while
    the task is STARTED."""
    return Call("PUT", f"/v1/tasks/{_id(task_id)}", record(Task), body=_body(patch))


def delete_task(task_id: str) -> Call[None]:
    """``DELETE /v1/tasks/{id}``: Conflict while STARTED."""
    return Call("DELETE", f"/v1/tasks/{_id(task_id)}", no_content)


def start_task(task_id: str) -> Call[Task]:
    """``POST /v1/tasks/{id}/start``: fires on schedule from now on (a STARTED task is
    answered as it is)."""
    return Call("POST", f"/v1/tasks/{_id(task_id)}/start", record(Task))


def stop_task(task_id: str, note: str | None = None) -> Call[Task]:
    """``POST /v1/tasks/{id}/stop``: no more fires; Conflict for a task never started.
    ``note`` (issue 18) says why, shown as the task's ``stop_reason``."""
    return Call("POST", f"/v1/tasks/{_id(task_id)}/stop", record(Task),
                body=None if note is None else _body(validate(TaskStop, {"note": note})))


def clone_task(task_id: str, name: str) -> Call[Task]:
    """``POST /v1/tasks/{id}/clone``: a new INITIALIZED task with the configuration of
    ``task_id`` (never its history) named ``name``."""
    return Call("POST", f"/v1/tasks/{_id(task_id)}/clone", record(Task),
                body=_body(validate(TaskClone, {"name": name})))


def bulk_start_tasks(action: BulkAction) -> Call[BulkResult]:
    """``POST /v1/tasks/bulk/start``: start every task the filter matches (``dry_run``:
    say which would change); per-task failures are listed, the others still start."""
    return Call("POST", "/v1/tasks/bulk/start", record(BulkResult), body=_body(action))


def bulk_stop_tasks(action: BulkAction) -> Call[BulkResult]:
    """``POST /v1/tasks/bulk/stop``: stop every task the filter matches, with an optional
    note; like :func:`bulk_start_tasks` otherwise."""
    return Call("POST", "/v1/tasks/bulk/stop", record(BulkResult), body=_body(action))


def run_task(task_id: str) -> Call[Execution]:
    """``POST /v1/tasks/{id}/run``: one MANUAL execution now, in any state (queued)."""
    return Call("POST", f"/v1/tasks/{_id(task_id)}/run", record(Execution))


# --- executions ---------------------------------------------------------------------------


def list_executions(
    task_id: str, *, status: ExecutionStatus | None = None, since: datetime | str | None = None,
    until: datetime | str | None = None, offset: int = 0, limit: int = PAGE_DEFAULT,
) -> Call[Page[Execution]]:
    """``GET /v1/tasks/{id}/executions``: newest first, each with its attempts; ``since``
    and ``until`` (the API's ``from`` and ``to``) bound the scheduled time, RFC 3339."""
    return Call("GET", f"/v1/tasks/{_id(task_id)}/executions", record(Page[Execution]),
                params={"status": status, "from": since, "to": until, "offset": offset,
                        "limit": limit})


def get_execution(execution_id: str) -> Call[Execution]:
    """``GET /v1/executions/{id}``: with every attempt."""
    return Call("GET", f"/v1/executions/{_id(execution_id)}", record(Execution))


def replay_execution(execution_id: str) -> Call[Execution]:
    """``POST /v1/executions/{id}/replay``: a new execution (trigger REPLAY, ``replay_of``
    the original) of the same occurrence, queued."""
    return Call("POST", f"/v1/executions/{_id(execution_id)}/replay", record(Execution))


def backfill_task(task_id: str, spec: BackfillRequest) -> Call[BackfillResult]:
    """``POST /v1/tasks/{id}/backfill``: one BACKFILL execution per past occurrence in
    [from, to) (at most 1,000), queued; ``dry_run`` only says what would be."""
    return Call("POST", f"/v1/tasks/{_id(task_id)}/backfill", record(BackfillResult),
                body=spec.model_dump(mode="json", by_alias=True, exclude_unset=True))


# --- users, API tokens, audit -------------------------------------------------------------


def create_user(user: UserCreate) -> Call[User]:
    """``POST /v1/users`` (admin): without ``password`` the user signs in with API tokens
    only."""
    return Call("POST", "/v1/users", record(User), body=_body(user))


def list_users(*, offset: int = 0, limit: int = PAGE_DEFAULT) -> Call[Page[User]]:
    """``GET /v1/users`` (admin): one page, by username."""
    return Call("GET", "/v1/users", record(Page[User]),
                params={"offset": offset, "limit": limit})


def get_user(user_id: str) -> Call[User]:
    """``GET /v1/users/{id}`` (admin)."""
    return Call("GET", f"/v1/users/{_id(user_id)}", record(User))


def update_user(user_id: str, patch: UserUpdate) -> Call[User]:
    """``PUT /v1/users/{id}`` (admin): the fields given; a new password, disabling or a
    lower role ends the user's console sessions."""
    return Call("PUT", f"/v1/users/{_id(user_id)}", record(User), body=_body(patch))


def delete_user(user_id: str) -> Call[None]:
    """``DELETE /v1/users/{id}`` (admin): their tokens and sessions end with them."""
    return Call("DELETE", f"/v1/users/{_id(user_id)}", no_content)


def create_token(user_id: str, token: TokenCreate) -> Call[TokenWithSecret]:
    """``POST /v1/users/{id}/tokens``: one's own (any role) or any user's (admin); the
    answer's ``token`` is shown only here."""
    return Call("POST", f"/v1/users/{_id(user_id)}/tokens", record(TokenWithSecret),
                body=_body(token))


def list_tokens(
    user_id: str, *, offset: int = 0, limit: int = PAGE_DEFAULT
) -> Call[Page[Token]]:
    """``GET /v1/users/{id}/tokens``: newest first (never the tokens themselves)."""
    return Call("GET", f"/v1/users/{_id(user_id)}/tokens", record(Page[Token]),
                params={"offset": offset, "limit": limit})


def revoke_token(token_id: str) -> Call[None]:
    """``DELETE /v1/tokens/{id}``: the token stops working at the next request."""
    return Call("DELETE", f"/v1/tokens/{_id(token_id)}", no_content)


def get_me() -> Call[Me]:
    """``GET /v1/me``: who the client's token acts as, and with which role."""
    return Call("GET", "/v1/me", record(Me))


def update_me(patch: MeUpdate) -> Call[Me]:
    """``PUT /v1/me``: one's display name, or password (with the current one)."""
    return Call("PUT", "/v1/me", record(Me), body=_body(patch))


def list_audit(
    *, actor: str | None = None, resource_type: str | None = None,
    resource_id: str | None = None, action: str | None = None,
    since: datetime | str | None = None, until: datetime | str | None = None,
    offset: int = 0, limit: int = PAGE_DEFAULT,
) -> Call[Page[AuditEntry]]:
    """``GET /v1/audit`` (operator, admin): newest first; ``since``/``until`` are the
    API's ``from`` and ``to`` (RFC 3339)."""
    return Call("GET", "/v1/audit", record(Page[AuditEntry]), params={
        "actor": actor, "resource_type": resource_type, "resource_id": resource_id,
        "action": action, "from": since, "to": until, "offset": offset, "limit": limit,
    })


# --- channels and alerts (issue 14) ---------------------------------------------------------


def create_channel(channel: ChannelCreate) -> Call[ChannelWithSecret]:
    """``POST /v1/channels``: a webhook's signing ``secret`` is in this answer only; the
    URL is answered masked."""
    return Call("POST", "/v1/channels", record(ChannelWithSecret), body=_body(channel))


def list_channels(
    *, kind: ChannelKind | None = None, offset: int = 0, limit: int = PAGE_DEFAULT,
) -> Call[Page[Channel]]:
    """``GET /v1/channels``: one page, filtered by kind."""
    return Call("GET", "/v1/channels", record(Page[Channel]),
                params={"kind": kind, "offset": offset, "limit": limit})


def get_channel(channel_id: str) -> Call[Channel]:
    """``GET /v1/channels/{id}`` (URL masked)."""
    return Call("GET", f"/v1/channels/{_id(channel_id)}", record(Channel))


def update_channel(channel_id: str, patch: ChannelUpdate) -> Call[Channel]:
    """``PUT /v1/channels/{id}``: change the fields given (a new URL or secret)."""
    return Call("PUT", f"/v1/channels/{_id(channel_id)}", record(Channel), body=_body(patch))


def delete_channel(channel_id: str) -> Call[None]:
    """``DELETE /v1/channels/{id}``: Conflict (``CHANNEL_IN_USE``) while rules name it."""
    return Call("DELETE", f"/v1/channels/{_id(channel_id)}", no_content)


def test_channel(channel_id: str) -> Call[ChannelTestResult]:
    """``POST /v1/channels/{id}/test``: send a test message now; ``ok`` and the error."""
    return Call("POST", f"/v1/channels/{_id(channel_id)}/test", record(ChannelTestResult))


def list_alerts(
    *, task_id: str | None = None, status: AlertStatus | None = None,
    event: AlertEventKind | None = None, channel_id: str | None = None, offset: int = 0,
    limit: int = PAGE_DEFAULT,
) -> Call[Page[AlertEvent]]:
    """``GET /v1/alerts``: alert events newest first, each with its delivery."""
    return Call("GET", "/v1/alerts", record(Page[AlertEvent]), params={
        "task_id": task_id, "status": status, "event": event, "channel_id": channel_id,
        "offset": offset, "limit": limit,
    })


# --- business calendars (issue 18) ---------------------------------------------------------


def create_calendar(calendar: CalendarCreate) -> Call[Calendar]:
    """``POST /v1/calendars``: a business calendar (name unique; an unknown holiday country
    or subdivision is InvalidInput naming ``holidays.country`` / ``holidays.subdivision``)."""
    return Call("POST", "/v1/calendars", record(Calendar), body=_body(calendar))


def list_calendars(
    *, name: str | None = None, offset: int = 0, limit: int = PAGE_DEFAULT,
) -> Call[Page[Calendar]]:
    """``GET /v1/calendars``: one page by name, filtered by part of the name."""
    return Call("GET", "/v1/calendars", record(Page[Calendar]),
                params={"name": name, "offset": offset, "limit": limit})


def get_calendar(calendar_id: str) -> Call[Calendar]:
    """``GET /v1/calendars/{id}``."""
    return Call("GET", f"/v1/calendars/{_id(calendar_id)}", record(Calendar))


def update_calendar(calendar_id: str, patch: CalendarUpdate) -> Call[Calendar]:
    """``PUT /v1/calendars/{id}``: change the fields given (``holidays=None`` given
    removes the holiday source)."""
    return Call("PUT", f"/v1/calendars/{_id(calendar_id)}", record(Calendar),
                body=_body(patch))


def delete_calendar(calendar_id: str) -> Call[None]:
    """``DELETE /v1/calendars/{id}``: Conflict (``CALENDAR_IN_USE``, naming them) while
    tasks follow it."""
    return Call("DELETE", f"/v1/calendars/{_id(calendar_id)}", no_content)


# --- cron, nodes, health ------------------------------------------------------------------


def preview_cron(request: PreviewRequest) -> Call[Preview]:
    """``POST /v1/cron/preview``: a trigger in words and its next fire times."""
    return Call("POST", "/v1/cron/preview", record(Preview), body=_body(request))


def list_nodes() -> Call[list[Node]]:
    """``GET /v1/nodes``: every apicron process registered on the instance's database."""
    return Call("GET", "/v1/nodes", record(list[Node]))


class Health(Record):
    """``GET /healthz``'s answer (served without a token)."""

    status: str
    database: str
    version: str
    role: str
    node_id: str


def health() -> Call[Health]:
    """``GET /healthz``: the answering process's role, node id and database reachability.
    A process that cannot reach its database answers 503 (raised as ``Unavailable``)."""
    return Call("GET", "/healthz", record(Health))


def metrics() -> Call[str]:
    """``GET /metrics``: the answering process's Prometheus text."""
    return Call("GET", "/metrics", text)
