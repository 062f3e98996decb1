"""``apicron``: run the server, manage an instance through its REST API, explain cron.

Every command is attached here, and only here: the command modules import what they
share (``inputs``, ``output``, ``connection``, ``lookup``) and never this module.
The server's commands (``serve``, ``db``, ``secret-key``) import the server lazily, so the
base install (client and CLI, without the ``server`` extra) starts fast and says what to
install when one of them is used.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer

from apicron import __version__
from apicron.cli import (
    access_commands,
    alert_commands,
    api_commands,
    app_commands,
    apply_commands,
    backfill_commands,
    calendar_commands,
    channel_commands,
    grant_commands,
    group_commands,
    instance_commands,
    node_commands,
    task_commands,
    task_organise_commands,
)
from apicron.cli.connection import error_line, use_url
from apicron.cli.output import fail, show, table, warn
from apicron.cli.settings_flags import (
    DatabaseSettingsCommand,
    SettingsCommand,
    resolve_from_command_line,
    use_config,
)
from apicron.client.environment import DEFAULT_URL
from apicron.domain.errors import ApicronError

app = typer.Typer(
    name="apicron",
    help=(
        "apicron: a self-hosted API scheduler with its own API gateway.\n\n"
        "The resource commands (instance, app, group, api, grant, task, user, token, me, "
        "audit, nodes, apply, export) talk to the management API at --url (APICRON_URL, "
        f"else the profile's url, default {DEFAULT_URL}) with the token in APICRON_TOKEN "
        "(else the profile's token, else APICRON_ADMIN_TOKEN, else the server's "
        "admin-token file in APICRON_DATA_DIR, default ~/.local/share/apicron). The profile "
        "is --profile (APICRON_PROFILE, default 'default') of "
        "~/.config/apicron/profiles.toml (`apicron profile set`)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"apicron {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    url: Annotated[
        str | None,
        typer.Option(
            "--url", envvar="APICRON_URL", metavar="URL", show_default=DEFAULT_URL,
            help="The management API the resource commands talk to.",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", envvar="APICRON_PROFILE", metavar="NAME",
            help="The profile (url and token) of ~/.config/apicron/profiles.toml to use.",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", envvar="APICRON_CONFIG", metavar="FILE.toml",
            help="A TOML file of settings for serve, config show, db and secret-key rotate: "
            "top-level keys are the settings' names (api_port = 8080). Flags, then "
            "APICRON_* variables, then secret files win over it.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print apicron's version and exit."),
    ] = False,
) -> None:
    """The options every command shares."""
    use_url(url)
    if profile:
        os.environ["APICRON_PROFILE"] = profile
    use_config(config)


app.add_typer(instance_commands.cli, name="instance")
app.add_typer(app_commands.cli, name="app")
app.add_typer(group_commands.cli, name="group")
app.add_typer(api_commands.cli, name="api")
app.add_typer(grant_commands.cli, name="grant")
app.add_typer(task_commands.cli, name="task")
task_commands.cli.command("backfill")(backfill_commands.task_backfill)
app.add_typer(backfill_commands.execution_cli, name="execution")
# Importing task_organise_commands adds its commands (clone, bulk-start, bulk-stop) to
# `apicron task`.
assert task_organise_commands.task_clone.__module__ == task_organise_commands.__name__
app.add_typer(access_commands.users_cli, name="user")
app.add_typer(access_commands.tokens_cli, name="token")
app.add_typer(access_commands.audit_cli, name="audit")
app.add_typer(access_commands.profile_cli, name="profile")
app.command("me")(access_commands.me)
app.add_typer(channel_commands.cli, name="channel")
app.add_typer(alert_commands.cli, name="alert")
app.add_typer(calendar_commands.cli, name="calendar")
app.command("nodes")(node_commands.nodes)
app.command("apply")(apply_commands.apply)
app.command("export")(apply_commands.export)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="apicron's settings, as this command line, the environment, "
                         "secret files and the config file make them.", no_args_is_help=True)
app.add_typer(config_app, name="config")
cron_app = typer.Typer(help="Cron expressions, explained locally (no server needed).",
                       no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cron_app, name="cron")


class Role(StrEnum):
    """What one ``apicron serve`` process runs (several processes can share an instance)."""

    ALL = "all"
    API = "api"
    GATEWAY = "gateway"
    SCHEDULER = "scheduler"


@contextmanager
def server_side(command: str) -> Iterator[None]:
    """Imports of the server inside: a missing server dependency becomes one line saying
    what to install (the base install is the client and this CLI only)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "apicron":
            raise
        fail(
            f"`apicron {command}` needs the server's dependencies, which are not installed "
            f"(no module {exc.name!r}): pip install 'apicron[server]'"
        )


@app.command(cls=SettingsCommand)
def serve(
    ctx: typer.Context,
    role: Annotated[
        Role,
        typer.Option(
            help="all: everything; api: management API and console only; gateway: the "
            "gateway only; scheduler: the scheduler engine only. Several processes of any "
            "role can share one PostgreSQL database",
        ),
    ] = Role.ALL,
) -> None:
    """Run apicron: management API (and console), gateway and scheduler (or one of them).

    Every setting is a flag here (below), an APICRON_* variable, and a key of the --config
    file; precedence: flag > environment > secret file > config file > default.
    """
    with server_side("serve"):
        from apicron.server import serve as run

    code = run(resolve_from_command_line(ctx).settings, role.value)
    if code:
        raise typer.Exit(code)


@config_app.command("show", cls=SettingsCommand)
def config_show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Print the effective settings (secrets masked) and where each came from: flag, env,
    secret file, config file or default. A bad setting fails here as it would at start."""
    with server_side("config show"):
        from apicron.settings.sources import shown_settings

    rows = shown_settings(resolve_from_command_line(ctx))
    if as_json:
        show([{"name": r.name, "variable": r.variable, "value": r.value,
               "source": str(r.origin.kind), "from": r.origin.where} for r in rows])
        return
    table([{"setting": r.name, "value": r.value, "from": str(r.origin)} for r in rows],
          ["setting", "value", "from"])


@db_app.command("upgrade", cls=DatabaseSettingsCommand)
def db_upgrade(ctx: typer.Context) -> None:
    """Upgrade the database schema to this version of apicron (serve does it on start)."""
    with server_side("db upgrade"):
        from apicron.crypto import ensure_private_dir
        from apicron.store import migrate
        from apicron.store.database import make_engine

    settings = resolve_from_command_line(ctx).settings
    if settings.is_sqlite:
        ensure_private_dir(settings.data_dir)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    typer.echo(f"schema at revision {migrate.current_revision(engine)}")
    engine.dispose()


secret_key_app = typer.Typer(
    help="Print a new key for APICRON_SECRET_KEY, or (rotate) re-encrypt what is stored.",
    invoke_without_command=True,
)
app.add_typer(secret_key_app, name="secret-key")


@secret_key_app.callback()
def secret_key(context: typer.Context) -> None:
    """Print a new key for APICRON_SECRET_KEY."""
    if context.invoked_subcommand is None:
        with server_side("secret-key"):
            from cryptography.fernet import Fernet

        typer.echo(Fernet.generate_key().decode())


@secret_key_app.command("rotate", cls=DatabaseSettingsCommand)
def secret_key_rotate(command: typer.Context) -> None:
    """Re-encrypt every stored credential under the first key of APICRON_SECRET_KEY (one
    transaction), so that the keys after it can be retired."""
    with server_side("secret-key rotate"):
        from apicron.server import open_store
        from apicron.services.secret_rotation import rotate_stored_credentials

    ctx = open_store(resolve_from_command_line(command).settings)
    try:
        count = rotate_stored_credentials(ctx)
    finally:
        ctx.store.close()
    typer.echo(f"re-encrypted {count} stored credentials under the first key of "
               "APICRON_SECRET_KEY; the keys after it can now be retired")


@cron_app.command("explain")
def cron_explain(
    expression: Annotated[str, typer.Argument(help="Quartz (6/7 fields) or Unix (5 fields)")],
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", metavar="ZONE", help="IANA time zone.")
    ] = "UTC",
    next_: Annotated[int, typer.Option("--next", min=1, max=100, help="fire times to list")] = 5,
) -> None:
    """Describe a cron expression in words and list its next fire times."""
    from datetime import UTC, datetime

    from apicron.triggers import build_trigger

    now = datetime.now(UTC).replace(microsecond=0)
    schedule = build_trigger(
        trigger_type="CRON", cron_expression=expression, interval_unit=None,
        interval_value=None, effective_time=now, timezone=timezone,
    )
    typer.echo(schedule.description)
    for fire in schedule.preview(now, next_):
        note = "  (moved by a DST change)" if fire.dst_shifted else ""
        typer.echo(f"  {fire.at.strftime('%Y-%m-%dT%H:%M:%SZ')}  {fire.local.isoformat()}{note}")
    # The triggers' hints about expressions a reader could misread (issue 19), when this
    # version of them gives any.
    warn(getattr(schedule, "warnings", ()))


def main() -> None:
    try:
        app()
    except ApicronError as exc:
        fail(error_line(exc))
    except KeyboardInterrupt:
        sys.exit(130)
