"""``apicron group``: API groups (an app's APIs, with the group's domain)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import (
    DEFAULT_LIMIT,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
    YesOpt,
    given,
    model,
    require_changes,
)
from apicron.cli.lookup import APPS, GROUPS, names_by_id, resolve, resolve_id
from apicron.cli.output import note, page_footer, show, table

cli = typer.Typer(help="API groups: an app's APIs and their domain.", no_args_is_help=True)

GroupArg = Annotated[str, typer.Argument(metavar="GROUP", help="The group's id or name.")]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]


@cli.command("create")
def group_create(
    name: NameArg,
    app: Annotated[str, typer.Option("--app", help="Owning app (id or name).")],
    description: DescriptionOpt = None,
) -> None:
    """Create an API group owned by an app."""
    from apicron.client import GroupCreate

    client = connect()
    app_id = resolve(client, APPS, app, "--app").id
    spec = model(GroupCreate, given(name=name, app_id=app_id, description=description))
    show(client.create_group(spec))


@cli.command("list")
def group_list(
    app: Annotated[str | None, typer.Option("--app", help="Owning app (id or name).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List API groups."""
    client = connect()
    page = client.list_groups(
        name=name, app_id=resolve_id(client, APPS, app, "--app"), offset=offset, limit=limit
    )
    if as_json:
        show(page)
        return
    apps = names_by_id(client, APPS, (g.app_id for g in page.items))
    rows = [{**g.model_dump(mode="json"), "app": apps.get(g.app_id, g.app_id)}
            for g in page.items]
    table(rows, ["name", "id", "app", "domain"])
    page_footer(page.total, len(page.items), offset)


@cli.command("show")
def group_show(group: GroupArg) -> None:
    """Print an API group."""
    show(resolve(connect(), GROUPS, group, "GROUP"))


@cli.command("update")
def group_update(
    group: GroupArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    description: DescriptionOpt = None,
) -> None:
    """Rename an API group or change its description."""
    from apicron.client import GroupUpdate

    fields = given(name=name, description=description)
    require_changes(fields, "--name, --description")
    patch = model(GroupUpdate, fields)
    client = connect()
    show(client.update_group(resolve(client, GROUPS, group, "GROUP").id, patch))


@cli.command("delete")
def group_delete(group: GroupArg, yes: YesOpt = False) -> None:
    """Delete an API group (refused while it has APIs)."""
    client = connect()
    found = resolve(client, GROUPS, group, "GROUP")
    if not yes:
        typer.confirm(f"Delete API group {found.name!r}?", abort=True, err=True)
    client.delete_group(found.id)
    note(f"deleted API group {found.name!r} ({found.id})")
