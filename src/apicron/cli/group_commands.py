"""``apicron group``: API groups (an app's APIs, with the group's domain)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.output import show, table
from apicron.cli.resources import (
    APPS,
    GROUPS,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
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

cli = typer.Typer(help="API groups: an app's APIs and their domain.", no_args_is_help=True)

GroupArg = Annotated[str, typer.Argument(metavar="GROUP", help="The group's id or name.")]


@cli.command("create")
def group_create(
    name: NameArg,
    app: Annotated[str, typer.Option("--app", help="Owning app (id or name).")],
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Create an API group owned by an app."""
    client = connect()
    app_id = resolve_id(client, APPS, app, "--app")
    show(client.call("POST", GROUPS.path,
                     json=given(name=name, app_id=app_id, description=description)))


@cli.command("list")
def group_list(
    app: Annotated[str | None, typer.Option("--app", help="Owning app (id or name).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = 20,
) -> None:
    """List API groups."""
    client = connect()
    params = given(name=name, app_id=resolve_id(client, APPS, app, "--app"))
    page = list_page(client, GROUPS.path, params, offset, limit)
    if as_json:
        show(page)
        return
    apps = names_by_id(client, APPS, (g["app_id"] for g in page["items"]))
    rows = [{**g, "app": apps.get(g["app_id"], g["app_id"])} for g in page["items"]]
    table(rows, ["name", "id", "app", "domain"])
    page_footer(page, offset)


@cli.command("show")
def group_show(group: GroupArg) -> None:
    """Print an API group."""
    show(resolve(connect(), GROUPS, group, "GROUP"))


@cli.command("update")
def group_update(
    group: GroupArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Rename an API group or change its description."""
    body = given(name=name, description=description)
    require_changes(body, "--name, --description")
    client = connect()
    found = resolve(client, GROUPS, group, "GROUP")
    show(client.call("PUT", f"{GROUPS.path}/{found['id']}", json=body))


@cli.command("delete")
def group_delete(group: GroupArg) -> None:
    """Delete an API group."""
    client = connect()
    found = resolve(client, GROUPS, group, "GROUP")
    client.call("DELETE", f"{GROUPS.path}/{found['id']}")
    note(f"deleted API group {found['name']!r} ({found['id']})")
