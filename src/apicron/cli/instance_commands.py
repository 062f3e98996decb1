"""``apicron instance``: the instance's name, default time zone and parameters."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import given, model, require_changes
from apicron.cli.output import show

cli = typer.Typer(help="The instance: name, default time zone, parameters.",
                  no_args_is_help=True)


@cli.command("show")
def instance_show() -> None:
    """Print the instance (name, params, timezone, gateway_url)."""
    show(connect().get_instance())


@cli.command("set")
def instance_set(
    name: Annotated[str | None, typer.Option("--name", help="Instance name.")] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", metavar="ZONE",
                     help="Default IANA time zone of new tasks, e.g. Europe/Berlin."),
    ] = None,
    app_route: Annotated[
        bool | None,
        typer.Option("--app-route/--no-app-route",
                     help="Parameter app_route: the gateway routes by its IP address."),
    ] = None,
    app_secret: Annotated[
        bool | None,
        typer.Option("--app-secret/--no-app-secret",
                     help="Parameter app_secret: apps may authenticate with key and secret."),
    ] = None,
) -> None:
    """Change the given settings only (tasks need both parameters on)."""
    from apicron.client import InstanceUpdate

    fields = given(name=name, timezone=timezone)
    params = given(app_route=app_route, app_secret=app_secret)
    if params:
        fields["params"] = params
    require_changes(fields, "--name, --timezone, --[no-]app-route, --[no-]app-secret")
    show(connect().update_instance(model(InstanceUpdate, fields)))
