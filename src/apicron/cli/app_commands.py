"""``apicron app``: integration apps (the credentials tasks call APIs with)."""

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
from apicron.cli.lookup import APPS, resolve
from apicron.cli.output import note, page_footer, show, table

cli = typer.Typer(help="Integration apps: credentials (key and secret).", no_args_is_help=True)

AppArg = Annotated[str, typer.Argument(metavar="APP", help="The app's id or name.")]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]

ONCE_NOTE = (
    "note: the secret is shown only now; store it safely "
    "(`apicron app reset-secret` issues a new one)"
)


@cli.command("create")
def app_create(name: NameArg, description: DescriptionOpt = None) -> None:
    """Create an app; prints it with its key and secret (the secret only this once)."""
    from apicron.client import AppCreate

    spec = model(AppCreate, given(name=name, description=description))
    show(connect().create_app(spec))
    note(ONCE_NOTE)


@cli.command("list")
def app_list(
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List apps."""
    page = connect().list_apps(name=name, offset=offset, limit=limit)
    if as_json:
        show(page)
        return
    table([a.model_dump(mode="json") for a in page.items],
          ["name", "id", "key", "description", "created_at"])
    page_footer(page.total, len(page.items), offset)


@cli.command("show")
def app_show(app: AppArg) -> None:
    """Print an app (without its secret)."""
    show(resolve(connect(), APPS, app, "APP"))


@cli.command("update")
def app_update(
    app: AppArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    description: DescriptionOpt = None,
) -> None:
    """Rename an app or change its description."""
    from apicron.client import AppUpdate

    fields = given(name=name, description=description)
    require_changes(fields, "--name, --description")
    patch = model(AppUpdate, fields)
    client = connect()
    show(client.update_app(resolve(client, APPS, app, "APP").id, patch))


@cli.command("reset-secret")
def app_reset_secret(app: AppArg, yes: YesOpt = False) -> None:
    """Issue a new secret; the old one stops working at once."""
    client = connect()
    found = resolve(client, APPS, app, "APP")
    if not yes:
        typer.confirm(
            f"Reset the secret of app {found.name!r}? Callers using the old secret will "
            "be refused",
            abort=True,
            err=True,
        )
    show(client.reset_app_secret(found.id))
    note(ONCE_NOTE)


@cli.command("delete")
def app_delete(app: AppArg, yes: YesOpt = False) -> None:
    """Delete an app (refused while it owns API groups or tasks)."""
    client = connect()
    found = resolve(client, APPS, app, "APP")
    if not yes:
        typer.confirm(f"Delete app {found.name!r}?", abort=True, err=True)
    client.delete_app(found.id)
    note(f"deleted integration app {found.name!r} ({found.id})")

