"""A typed client of apicron's management REST API, sync and async.

    from apicron.client import AppCreate, Client

    with Client("http://127.0.0.1:8080", token) as apicron:   # or Client.from_env()
        app = apicron.create_app(AppCreate(name="billing"))
        for task in apicron.iter_tasks(status="STARTED"):
            print(task.name, task.next_fire_time)

Methods are the operations of DESIGN.md's REST contract (:mod:`apicron.client.operations`
lists them); they take the domain's input models and return its records (pydantic, from
:mod:`apicron.domain.models`, re-exported here), and raise the errors of
:mod:`apicron.client.errors`. :class:`AsyncClient` has the same methods, awaited.
Needs only the base install (``pip install apicron``), not the server's dependencies.

Why the domain's records rather than models of the client's own: ``apicron.domain`` needs
only pydantic and defusedxml, so the base install carries it, and one definition of every
shape serves the server, the client and the CLI (a request the server would refuse is
refused by the input model with the same message). Records ignore fields they do not
know, so this client reads the answers of a newer server too (without the new fields).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apicron.client.clients import AsyncClient, Client
    from apicron.client.errors import (
        ApiError,
        ClientError,
        Conflict,
        Forbidden,
        InvalidInput,
        NotFound,
        ServerError,
        TooLarge,
        TransportError,
        Unauthorized,
        Unavailable,
        UnexpectedResponse,
    )
    from apicron.client.operations import Health
    from apicron.client.pages import PAGE_MAX
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
    from apicron.domain.alert_rules import AlertRules, SuccessConditions
    from apicron.domain.alerting import (
        AlertEvent,
        Channel,
        ChannelCreate,
        ChannelTestResult,
        ChannelUpdate,
        ChannelWithSecret,
    )
    from apicron.domain.calendars import Calendar, CalendarCreate, CalendarUpdate, HolidaySource
    from apicron.domain.models import (
        Api,
        ApiCreate,
        ApiUpdate,
        App,
        AppCreate,
        AppUpdate,
        AppWithSecret,
        Attempt,
        Body,
        Execution,
        Grant,
        GrantCreate,
        GrantItems,
        Group,
        GroupCreate,
        GroupUpdate,
        Instance,
        InstanceParamsUpdate,
        InstanceUpdate,
        NameValue,
        Node,
        Page,
        Preview,
        PreviewRequest,
        Task,
        TaskCreate,
        TaskRequest,
        TaskUpdate,
    )
    from apicron.domain.task_actions import BulkAction, BulkResult, TaskFilter

# Where each name lives. They are imported on first use, so that the CLI's start (which
# needs only apicron.client.environment and .errors) builds no pydantic model and does not
# import httpx; `from apicron.client import Client` imports what it needs, as usual.
_HOMES: dict[str, tuple[str, ...]] = {
    "apicron.client.clients": (
        "AsyncClient", "Client",
    ),
    "apicron.client.errors": (
        "ApiError", "ClientError", "Conflict", "Forbidden", "InvalidInput", "NotFound",
        "ServerError", "TooLarge", "TransportError", "Unauthorized", "Unavailable",
        "UnexpectedResponse",
    ),
    "apicron.client.operations": (
        "Health",
    ),
    "apicron.client.pages": (
        "PAGE_MAX",
    ),
    "apicron.domain.accounts": (
        "AuditEntry", "Me", "MeUpdate", "Token", "TokenCreate", "TokenWithSecret", "User",
        "UserCreate", "UserUpdate",
    ),
    "apicron.domain.alert_rules": ("AlertRules", "SuccessConditions"),
    "apicron.domain.alerting": (
        "AlertEvent", "Channel", "ChannelCreate", "ChannelTestResult", "ChannelUpdate",
        "ChannelWithSecret",
    ),
    "apicron.domain.calendars": ("Calendar", "CalendarCreate", "CalendarUpdate", "HolidaySource"),
    "apicron.domain.models": (
        "Api", "ApiCreate", "ApiUpdate", "App", "AppCreate", "AppUpdate", "AppWithSecret",
        "Attempt", "Body", "Execution", "Grant", "GrantCreate", "GrantItems", "Group",
        "GroupCreate", "GroupUpdate", "Instance", "InstanceParamsUpdate", "InstanceUpdate",
        "NameValue", "Node", "Page", "Preview", "PreviewRequest", "Task", "TaskCreate",
        "TaskRequest", "TaskUpdate",
    ),
    "apicron.domain.task_actions": ("BulkAction", "BulkResult", "TaskFilter"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'apicron.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = [
    "PAGE_MAX",
    "AlertEvent",
    "AlertRules",
    "Api",
    "ApiCreate",
    "ApiError",
    "ApiUpdate",
    "App",
    "AppCreate",
    "AppUpdate",
    "AppWithSecret",
    "AsyncClient",
    "Attempt",
    "AuditEntry",
    "Body",
    "BulkAction",
    "BulkResult",
    "Calendar",
    "CalendarCreate",
    "CalendarUpdate",
    "Channel",
    "ChannelCreate",
    "ChannelTestResult",
    "ChannelUpdate",
    "ChannelWithSecret",
    "Client",
    "ClientError",
    "Conflict",
    "Execution",
    "Forbidden",
    "Grant",
    "GrantCreate",
    "GrantItems",
    "Group",
    "GroupCreate",
    "GroupUpdate",
    "Health",
    "HolidaySource",
    "Instance",
    "InstanceParamsUpdate",
    "InstanceUpdate",
    "InvalidInput",
    "Me",
    "MeUpdate",
    "NameValue",
    "Node",
    "NotFound",
    "Page",
    "Preview",
    "PreviewRequest",
    "ServerError",
    "SuccessConditions",
    "Task",
    "TaskCreate",
    "TaskFilter",
    "TaskRequest",
    "TaskUpdate",
    "Token",
    "TokenCreate",
    "TokenWithSecret",
    "TooLarge",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "UnexpectedResponse",
    "User",
    "UserCreate",
    "UserUpdate",
]
