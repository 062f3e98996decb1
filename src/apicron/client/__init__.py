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
"""

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
from apicron.client.operations import PAGE_MAX, Health
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

__all__ = [
    "PAGE_MAX",
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
    "Body",
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
    "Instance",
    "InstanceParamsUpdate",
    "InstanceUpdate",
    "InvalidInput",
    "NameValue",
    "Node",
    "NotFound",
    "Page",
    "Preview",
    "PreviewRequest",
    "ServerError",
    "Task",
    "TaskCreate",
    "TaskRequest",
    "TaskUpdate",
    "TooLarge",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "UnexpectedResponse",
]
