"""``apicron api``: APIs (method + path routed by the gateway to a backend URL)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import (
    DEFAULT_LIMIT,
    Json,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    YesOpt,
    choice,
    given,
    model,
    require_changes,
)
from apicron.cli.lookup import APIS, APPS, GROUPS, names_by_id, resolve, resolve_id
from apicron.cli.output import note, page_footer, show, table
from apicron.domain.vocabulary import AuthType, Method, choices

cli = typer.Typer(help="APIs: routes the gateway serves once published.", no_args_is_help=True)

METHODS = choices(Method)
AUTH_TYPES = choices(AuthType)

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
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]


def _fields(
    method: str | None, path: str | None, backend_url: str | None, auth: str | None,
    timeout_ms: int | None, description: str | None,
) -> Json:
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
    publish: Annotated[
        bool,
        typer.Option("--publish",
                     help="Publish it too, in the same request: both happen or neither."),
    ] = False,
) -> None:
    """Create an API in a group (its app is the group's); --publish to serve it."""
    from apicron.client import ApiCreate

    fields = _fields(method, path, backend_url, auth, timeout_ms, description)
    client = connect()
    fields["group_id"] = resolve(client, GROUPS, group, "--group").id
    fields["name"] = name
    show(client.create_api(model(ApiCreate, fields), publish=publish))


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
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List APIs."""
    client = connect()
    page = client.list_apis(
        name=name,
        group_id=resolve_id(client, GROUPS, group, "--group"),
        app_id=resolve_id(client, APPS, app, "--app"),
        published=published,
        offset=offset,
        limit=limit,
    )
    if as_json:
        show(page)
        return
    groups = names_by_id(client, GROUPS, (a.group_id for a in page.items))
    rows = [
        {**a.model_dump(mode="json"), "group": groups.get(a.group_id, a.group_id),
         "auth": a.auth_type}
        for a in page.items
    ]
    table(rows, ["name", "id", "group", "method", "path", "auth", "published"])
    page_footer(page.total, len(page.items), offset)


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
    from apicron.client import ApiUpdate

    fields = _fields(method, path, backend_url, auth, timeout_ms, description)
    if name is not None:
        fields["name"] = name
    if not publish:
        require_changes(
            fields, "--name, --method, --path, --backend-url, --auth, --timeout-ms, "
            "--description, --publish",
        )
    patch = model(ApiUpdate, fields)
    client = connect()
    found = resolve(client, APIS, api, "API")
    updated = client.update_api(found.id, patch) if fields else found
    if publish:
        updated = client.publish_api(found.id)
    elif updated.published:
        note("note: the gateway serves the published snapshot until `apicron api publish`")
    show(updated)


@cli.command("publish")
def api_publish(api: ApiArg) -> None:
    """Publish (or republish) an API: the gateway serves this version."""
    client = connect()
    show(client.publish_api(resolve(client, APIS, api, "API").id))


@cli.command("unpublish")
def api_unpublish(api: ApiArg) -> None:
    """Stop serving an API at the gateway."""
    client = connect()
    show(client.unpublish_api(resolve(client, APIS, api, "API").id))


@cli.command("delete")
def api_delete(api: ApiArg, yes: YesOpt = False) -> None:
    """Delete an API (refused while published or called by a task)."""
    client = connect()
    found = resolve(client, APIS, api, "API")
    if not yes:
        typer.confirm(f"Delete API {found.name!r} ({found.method} {found.path})?",
                      abort=True, err=True)
    client.delete_api(found.id)
    note(f"deleted API {found.name!r} ({found.id})")
