"""``apicron grant``: app-auths, the right of an app to call another app's APP-auth API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from apicron.cli.output import show, table
from apicron.cli.resources import (
    APIS,
    APPS,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    connect,
    given,
    list_page,
    names_by_id,
    note,
    page_footer,
    resolve_id,
)

cli = typer.Typer(help="Grants (app-auths): let an app call another app's APIs.",
                  no_args_is_help=True)

GRANTS_PATH = "/v1/app-auths"


@cli.command("create")
def grant_create(
    app: Annotated[str, typer.Option("--app", help="The app that gets the right (id or name).")],
    apis: Annotated[
        list[str], typer.Option("--api", help="An APP-auth API (id or name); repeatable.")
    ],
) -> None:
    """Grant an app the right to call APIs (all or nothing); prints {"items": [...]}."""
    client = connect()
    app_id = resolve_id(client, APPS, app, "--app")
    api_ids = [resolve_id(client, APIS, api, "--api") for api in apis]
    show(client.call("POST", GRANTS_PATH, json={"app_id": app_id, "api_ids": api_ids}))


@cli.command("list")
def grant_list(
    app: Annotated[str | None, typer.Option("--app", help="Granted app (id or name).")] = None,
    api: Annotated[str | None, typer.Option("--api", help="Granted API (id or name).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = 20,
) -> None:
    """List grants."""
    client = connect()
    params = given(
        app_id=resolve_id(client, APPS, app, "--app"),
        api_id=resolve_id(client, APIS, api, "--api"),
    )
    page = list_page(client, GRANTS_PATH, params, offset, limit)
    if as_json:
        show(page)
        return
    items = page["items"]
    apps = names_by_id(client, APPS, (g["app_id"] for g in items))
    apis = names_by_id(client, APIS, (g["api_id"] for g in items))
    rows = [
        {**g, "app": apps.get(g["app_id"], g["app_id"]), "api": apis.get(g["api_id"], g["api_id"])}
        for g in items
    ]
    table(rows, ["id", "app", "api", "created_at"])
    page_footer(page, offset)


@cli.command("delete")
def grant_delete(
    grant_id: Annotated[str, typer.Argument(metavar="GRANT_ID", help="The grant's id.")],
) -> None:
    """Revoke a grant (tasks relying on it fail at their next fire)."""
    connect().call("DELETE", f"{GRANTS_PATH}/{quote(grant_id, safe='')}")
    note(f"deleted grant {grant_id}")
