"""``apicron grant``: app-auths, the right of an app to call another app's APP-auth API."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import DEFAULT_LIMIT, JsonOpt, LimitOpt, OffsetOpt, YesOpt, model
from apicron.cli.lookup import APIS, APPS, names_by_id, resolve, resolve_id
from apicron.cli.output import note, page_footer, show, table

cli = typer.Typer(help="Grants (app-auths): let an app call another app's APIs.",
                  no_args_is_help=True)


@cli.command("create")
def grant_create(
    app: Annotated[str, typer.Option("--app", help="The app that gets the right (id or name).")],
    apis: Annotated[
        list[str], typer.Option("--api", help="An APP-auth API (id or name); repeatable.")
    ],
) -> None:
    """Grant an app the right to call APIs (all or nothing); prints {"items": [...]}."""
    from apicron.client import GrantCreate

    client = connect()
    app_id = resolve(client, APPS, app, "--app").id
    api_ids = [resolve(client, APIS, api, "--api").id for api in apis]
    show(client.create_grants(model(GrantCreate, {"app_id": app_id, "api_ids": api_ids})))


@cli.command("list")
def grant_list(
    app: Annotated[str | None, typer.Option("--app", help="Granted app (id or name).")] = None,
    api: Annotated[str | None, typer.Option("--api", help="Granted API (id or name).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List grants."""
    client = connect()
    page = client.list_grants(
        app_id=resolve_id(client, APPS, app, "--app"),
        api_id=resolve_id(client, APIS, api, "--api"),
        offset=offset,
        limit=limit,
    )
    if as_json:
        show(page)
        return
    apps = names_by_id(client, APPS, (g.app_id for g in page.items))
    apis = names_by_id(client, APIS, (g.api_id for g in page.items))
    rows = [
        {**g.model_dump(mode="json"), "app": apps.get(g.app_id, g.app_id),
         "api": apis.get(g.api_id, g.api_id)}
        for g in page.items
    ]
    table(rows, ["id", "app", "api", "created_at"])
    page_footer(page.total, len(page.items), offset)


@cli.command("delete")
def grant_delete(
    grant_id: Annotated[str, typer.Argument(metavar="GRANT_ID", help="The grant's id.")],
    yes: YesOpt = False,
) -> None:
    """Revoke a grant (tasks relying on it fail at their next fire)."""
    if not yes:
        typer.confirm(f"Revoke grant {grant_id}? Tasks relying on it will fail", abort=True,
                      err=True)
    connect().delete_grant(grant_id)
    note(f"deleted grant {grant_id}")
