"""``apicron app``: integration apps (the credentials tasks call APIs with)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.output import show, table
from apicron.cli.resources import (
    APPS,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
    YesOpt,
    connect,
    given,
    list_page,
    note,
    page_footer,
    require_changes,
    resolve,
)

cli = typer.Typer(help="Integration apps: credentials (key and secret).", no_args_is_help=True)

AppArg = Annotated[str, typer.Argument(metavar="APP", help="The app's id or name.")]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]

ONCE_NOTE = (
    "note: the secret is shown only now; store it safely "
    "(`apicron app reset-secret` issues a new one)"
)


@cli.command("create")
def app_create(
    name: NameArg,
    description: DescriptionOpt = None,
) -> None:
    """Create an app; prints it with its key and secret (the secret only this once)."""
    created = connect().call("POST", "/v1/apps", json=given(name=name, description=description))
    show(created)
    note(ONCE_NOTE)


@cli.command("list")
def app_list(
    name: Annotated[str | None, typer.Option("--name", help="Name contains (any case).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = 20,
) -> None:
    """List apps."""
    page = list_page(connect(), APPS.path, given(name=name), offset, limit)
    if as_json:
        show(page)
        return
    table(page["items"], ["name", "id", "key", "description", "created_at"])
    page_footer(page, offset)


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
    body = given(name=name, description=description)
    require_changes(body, "--name, --description")
    client = connect()
    found = resolve(client, APPS, app, "APP")
    show(client.call("PUT", f"{APPS.path}/{found['id']}", json=body))


@cli.command("reset-secret")
def app_reset_secret(app: AppArg, yes: YesOpt = False) -> None:
    """Issue a new secret; the old one stops working at once."""
    client = connect()
    found = resolve(client, APPS, app, "APP")
    if not yes:
        typer.confirm(
            f"Reset the secret of app {found['name']!r}? Callers using the old secret will "
            "be refused",
            abort=True,
            err=True,
        )
    show(client.call("POST", f"{APPS.path}/{found['id']}/reset-secret"))
    note(ONCE_NOTE)


@cli.command("delete")
def app_delete(app: AppArg, yes: YesOpt = False) -> None:
    """Delete an app (refused while it owns API groups or tasks)."""
    client = connect()
    found = resolve(client, APPS, app, "APP")
    if not yes:
        typer.confirm(f"Delete app {found['name']!r}?", abort=True, err=True)
    client.call("DELETE", f"{APPS.path}/{found['id']}")
    note(f"deleted integration app {found['name']!r} ({found['id']})")
