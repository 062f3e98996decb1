"""``apicron api``: APIs (method + path routed by the gateway to a backend URL)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.output import show, table
from apicron.cli.resources import (
    APIS,
    APPS,
    GROUPS,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    act,
    choice,
    connect,
    given,
    list_page,
    names_by_id,
    note,
    page_footer,
    require_changes,
    resolve,
    resolve_id,
)

cli = typer.Typer(help="APIs: routes the gateway serves once published.", no_args_is_help=True)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
AUTH_TYPES = ("APP", "NONE")

ApiArg = Annotated[str, typer.Argument(metavar="API", help="The API's id or name.")]
MethodOpt = Annotated[
    str | None, typer.Option("--method", help=f"HTTP method: {', '.join(METHODS)}.")
]
PathOpt = Annotated[
    str | None, typer.Option("--path", help="Request path; '{name}' segments are parameters.")
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend-url", help="Backend URL; may use the path's '{name}' parameters."),
]
AuthOpt = Annotated[
    str | None, typer.Option("--auth", help="APP (signed or key+secret; default) or NONE.")
]
TimeoutOpt = Annotated[
    int | None,
    typer.Option("--timeout-ms", help="Backend timeout in ms (default 5000, max 60000)."),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description")]
PublishOpt = Annotated[
    bool, typer.Option("--publish", help="Publish it as well (the gateway serves it).")
]


def _fields(
    method: str | None, path: str | None, backend_url: str | None, auth: str | None,
    timeout_ms: int | None, description: str | None,
) -> dict[str, object]:
    return given(
        method=choice("--method", method, METHODS),
        path=path,
        backend_url=backend_url,
        auth_type=choice("--auth", auth, AUTH_TYPES),
        backend_timeout_ms=timeout_ms,
        description=description,
    )


@cli.command("create")
def api_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name, unique within its group.")],
    group: Annotated[str, typer.Option("--group", help="Its API group (id or name).")],
    method: Annotated[str, typer.Option("--method", help=f"HTTP method: {', '.join(METHODS)}.")],
    path: Annotated[
        str, typer.Option("--path", help="Request path; '{name}' segments are parameters.")
    ],
    backend_url: Annotated[
        str,
        typer.Option("--backend-url",
                     help="Backend URL; may use the path's '{name}' parameters."),
    ],
    auth: AuthOpt = None,
    timeout_ms: TimeoutOpt = None,
    description: DescriptionOpt = None,
    publish: PublishOpt = False,
) -> None:
    """Create an API in a group (its app is the group's); --publish to serve it."""
    body = _fields(method, path, backend_url, auth, timeout_ms, description)
    client = connect()
    body["group_id"] = resolve_id(client, GROUPS, group, "--group")
    body["name"] = name
    if publish:
        body["publish"] = True  # one request: created and published, or neither
    show(client.call("POST", APIS.path, json=body))


@cli.command("list")
def api_list(
    group: Annotated[str | None, typer.Option("--group", help="API group (id or name).")] = None,
    app: Annotated[str | None, typer.Option("--app", help="Owning app (id or name).")] = None,
    published: Annotated[
        bool | None, typer.Option("--published/--unpublished", help="Only (un)published APIs.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = 20,
) -> None:
    """List APIs."""
    client = connect()
    params = given(
        name=name,
        group_id=resolve_id(client, GROUPS, group, "--group"),
        app_id=resolve_id(client, APPS, app, "--app"),
        published=None if published is None else str(published).lower(),
    )
    page = list_page(client, APIS.path, params, offset, limit)
    if as_json:
        show(page)
        return
    groups = names_by_id(client, GROUPS, (a["group_id"] for a in page["items"]))
    rows = [
        {**a, "group": groups.get(a["group_id"], a["group_id"]), "auth": a["auth_type"]}
        for a in page["items"]
    ]
    table(rows, ["name", "id", "group", "method", "path", "auth", "published"])
    page_footer(page, offset)


@cli.command("show")
def api_show(api: ApiArg) -> None:
    """Print an API (its draft; the gateway serves the last published snapshot)."""
    show(resolve(connect(), APIS, api, "API"))


@cli.command("update")
def api_update(
    api: ApiArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    method: MethodOpt = None,
    path: PathOpt = None,
    backend_url: BackendOpt = None,
    auth: AuthOpt = None,
    timeout_ms: TimeoutOpt = None,
    description: DescriptionOpt = None,
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish the edited API (edits need a publish).")
    ] = False,
) -> None:
    """Edit an API's draft; a published API serves the edit after the next publish."""
    body = _fields(method, path, backend_url, auth, timeout_ms, description)
    if name is not None:
        body["name"] = name
    if not publish:
        require_changes(
            body, "--name, --method, --path, --backend-url, --auth, --timeout-ms, "
            "--description, --publish",
        )
    client = connect()
    found = resolve(client, APIS, api, "API")
    updated = client.call("PUT", f"{APIS.path}/{found['id']}", json=body) if body else found
    if publish:
        updated = client.call("POST", f"{APIS.path}/{found['id']}/publish")
    elif updated["published"]:
        note("note: the gateway serves the published snapshot until `apicron api publish`")
    show(updated)


@cli.command("publish")
def api_publish(api: ApiArg) -> None:
    """Publish (or republish) an API: the gateway serves this version."""
    show(act(APIS, api, "API", "publish"))


@cli.command("unpublish")
def api_unpublish(api: ApiArg) -> None:
    """Stop serving an API at the gateway."""
    show(act(APIS, api, "API", "unpublish"))


@cli.command("delete")
def api_delete(api: ApiArg) -> None:
    """Delete an API."""
    client = connect()
    found = resolve(client, APIS, api, "API")
    client.call("DELETE", f"{APIS.path}/{found['id']}")
    note(f"deleted API {found['name']!r} ({found['id']})")
