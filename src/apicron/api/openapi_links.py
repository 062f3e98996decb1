"""OpenAPI links: how the id one operation answers feeds the next (create → read, publish…).

They document the resource chain of the contract (app → API group → API → task →
execution, and grants) for people and for tools that follow links, such as schemathesis'
stateful phase, which would otherwise only guess at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ID = "$response.body#/id"


@dataclass(frozen=True)
class Link:
    """From the answer of ``source`` (method, path, status) to the operation ``target``."""

    source: tuple[str, str, str]
    target: tuple[str, str]
    parameters: dict[str, str] = field(default_factory=dict)
    request_body: dict[str, Any] | None = None


def _by_id(source: tuple[str, str, str], collection: str, name: str,
           actions: tuple[str, ...] = ()) -> list[Link]:
    """The item's GET, PUT, DELETE and POST actions, with ``{name}`` from the answer's id."""
    item = f"{collection}/{{{name}}}"
    targets = [(method, item) for method in ("get", "put", "delete")]
    targets += [("post", f"{item}/{action}") for action in actions]
    return [Link(source, target, {name: _ID}) for target in targets]


def _links() -> list[Link]:
    app = ("post", "/v1/apps", "201")
    group = ("post", "/v1/api-groups", "201")
    api = ("post", "/v1/apis", "201")
    published = ("post", "/v1/apis/{api_id}/publish", "200")
    grant = ("post", "/v1/app-auths", "201")
    task = ("post", "/v1/tasks", "201")
    started = ("post", "/v1/tasks/{task_id}/start", "200")
    run = ("post", "/v1/tasks/{task_id}/run", "202")
    executions = ("get", "/v1/tasks/{task_id}/executions", "200")
    api_and_app = {"app_id": "$response.body#/app_id", "api_id": _ID}
    return [
        *_by_id(app, "/v1/apps", "app_id", ("reset-secret",)),
        Link(app, ("post", "/v1/api-groups"), request_body={"app_id": _ID}),
        Link(app, ("post", "/v1/app-auths"), request_body={"app_id": _ID}),
        *_by_id(group, "/v1/api-groups", "group_id"),
        Link(group, ("post", "/v1/apis"), request_body={"group_id": _ID}),
        *_by_id(api, "/v1/apis", "api_id", ("publish", "unpublish")),
        *_by_id(published, "/v1/apis", "api_id", ("unpublish",)),
        Link(published, ("post", "/v1/tasks"), request_body=api_and_app),
        Link(published, ("post", "/v1/app-auths"), request_body={"api_ids": [_ID]}),
        Link(grant, ("delete", "/v1/app-auths/{grant_id}"),
             {"grant_id": "$response.body#/items/0/id"}),
        *_by_id(task, "/v1/tasks", "task_id", ("start", "stop", "run")),
        Link(task, ("get", "/v1/tasks/{task_id}/executions"), {"task_id": _ID}),
        *_by_id(started, "/v1/tasks", "task_id", ("stop", "run")),
        Link(run, ("get", "/v1/executions/{execution_id}"), {"execution_id": _ID}),
        Link(run, ("get", "/v1/tasks/{task_id}/executions"),
             {"task_id": "$response.body#/task_id"}),
        Link(executions, ("get", "/v1/executions/{execution_id}"),
             {"execution_id": "$response.body#/items/0/id"}),
    ]


def add_links(schema: dict[str, Any]) -> None:
    """Add the links to a generated OpenAPI document, each named by its target's
    operationId."""
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for link in _links():
        method, path, status = link.source
        target_method, target_path = link.target
        target = paths[target_path][target_method]
        definition: dict[str, Any] = {"operationId": target["operationId"]}
        if link.parameters:
            definition["parameters"] = dict(link.parameters)
        if link.request_body is not None:
            definition["requestBody"] = link.request_body
        response = paths[path][method]["responses"][status]
        response.setdefault("links", {})[target["operationId"]] = definition
