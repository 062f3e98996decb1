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
from pathlib import Path
from typing import Annotated

import typer

from apicron import __version__
from apicron.cli import (
    access_commands,
    alert_commands,
    api_commands,
    app_commands,
    apply_commands,
    channel_commands,
    grant_commands,
    group_commands,
    instance_commands,
    node_commands,
    task_commands,
)
from apicron.cli.connection import error_line, use_url
from apicron.cli.output import fail, warn
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


app.add_typer(instance_commands.cli, name="instance")
app.add_typer(app_commands.cli, name="app")
app.add_typer(group_commands.cli, name="group")
app.add_typer(api_commands.cli, name="api")
app.add_typer(grant_commands.cli, name="grant")
app.add_typer(task_commands.cli, name="task")
app.add_typer(access_commands.users_cli, name="user")
app.add_typer(access_commands.tokens_cli, name="token")
app.add_typer(access_commands.audit_cli, name="audit")
app.add_typer(access_commands.profile_cli, name="profile")
app.command("me")(access_commands.me)
app.add_typer(channel_commands.cli, name="channel")
app.add_typer(alert_commands.cli, name="alert")
app.command("nodes")(node_commands.nodes)
app.command("apply")(apply_commands.apply)
app.command("export")(apply_commands.export)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
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


def _settings(**overrides: object) -> object:
    from apicron.settings import load_settings

    return load_settings(overrides=overrides)


@app.command()
def serve(
    data_dir: Annotated[Path | None, typer.Option(help="APICRON_DATA_DIR")] = None,
    database_url: Annotated[str | None, typer.Option(help="APICRON_DATABASE_URL")] = None,
    api_host: Annotated[str | None, typer.Option(help="APICRON_API_HOST")] = None,
    api_port: Annotated[int | None, typer.Option(help="APICRON_API_PORT")] = None,
    gateway_host: Annotated[str | None, typer.Option(help="APICRON_GATEWAY_HOST")] = None,
    gateway_port: Annotated[int | None, typer.Option(help="APICRON_GATEWAY_PORT")] = None,
    gateway_url: Annotated[str | None, typer.Option(help="APICRON_GATEWAY_URL")] = None,
    tls_cert: Annotated[str | None, typer.Option(help="APICRON_TLS_CERT")] = None,
    tls_key: Annotated[str | None, typer.Option(help="APICRON_TLS_KEY")] = None,
    tls_client_ca: Annotated[str | None, typer.Option(help="APICRON_TLS_CLIENT_CA")] = None,
    forwarded_allow_ips: Annotated[
        str | None, typer.Option(help="APICRON_FORWARDED_ALLOW_IPS")
    ] = None,
    outbound_allow: Annotated[str | None, typer.Option(help="APICRON_OUTBOUND_ALLOW")] = None,
    outbound_deny: Annotated[str | None, typer.Option(help="APICRON_OUTBOUND_DENY")] = None,
    session_idle: Annotated[str | None, typer.Option(help="APICRON_SESSION_IDLE")] = None,
    session_max: Annotated[str | None, typer.Option(help="APICRON_SESSION_MAX")] = None,
    login_max_failures: Annotated[
        str | None, typer.Option(help="APICRON_LOGIN_MAX_FAILURES")] = None,
    login_window: Annotated[str | None, typer.Option(help="APICRON_LOGIN_WINDOW")] = None,
    login_lockout: Annotated[str | None, typer.Option(help="APICRON_LOGIN_LOCKOUT")] = None,
    login_slowdown: Annotated[str | None, typer.Option(help="APICRON_LOGIN_SLOWDOWN")] = None,
    audit_retention: Annotated[str | None, typer.Option(help="APICRON_AUDIT_RETENTION")] = None,
    admin_token_disabled: Annotated[
        str | None, typer.Option(help="APICRON_ADMIN_TOKEN_DISABLED")] = None,
    role: Annotated[
        Role,
        typer.Option(
            help="all: everything; api: management API and console only; gateway: the "
            "gateway only; scheduler: the scheduler engine only. Several processes of any "
            "role can share one PostgreSQL database",
        ),
    ] = Role.ALL,
) -> None:
    """Run apicron: management API (and console), gateway and scheduler (or one of them)."""
    with server_side("serve"):
        from apicron.server import serve as run
        from apicron.settings import Settings

    settings = _settings(
        data_dir=data_dir, database_url=database_url, api_host=api_host, api_port=api_port,
        gateway_host=gateway_host, gateway_port=gateway_port, gateway_url=gateway_url,
        tls_cert=tls_cert, tls_key=tls_key, tls_client_ca=tls_client_ca,
        forwarded_allow_ips=forwarded_allow_ips, outbound_allow=outbound_allow,
        outbound_deny=outbound_deny, session_idle=session_idle, session_max=session_max,
        login_max_failures=login_max_failures, login_window=login_window,
        login_lockout=login_lockout, login_slowdown=login_slowdown,
        audit_retention=audit_retention, admin_token_disabled=admin_token_disabled,
    )
    assert isinstance(settings, Settings)
    code = run(settings, role.value)
    if code:
        raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(
    data_dir: Annotated[Path | None, typer.Option(help="APICRON_DATA_DIR")] = None,
    database_url: Annotated[str | None, typer.Option(help="APICRON_DATABASE_URL")] = None,
) -> None:
    """Upgrade the database schema to this version of apicron (serve does it on start)."""
    with server_side("db upgrade"):
        from apicron.crypto import ensure_private_dir
        from apicron.settings import Settings
        from apicron.store import migrate
        from apicron.store.database import make_engine

    settings = _settings(data_dir=data_dir, database_url=database_url)
    assert isinstance(settings, Settings)
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


@secret_key_app.command("rotate")
def secret_key_rotate(
    data_dir: Annotated[Path | None, typer.Option(help="APICRON_DATA_DIR")] = None,
    database_url: Annotated[str | None, typer.Option(help="APICRON_DATABASE_URL")] = None,
) -> None:
    """Re-encrypt every stored credential under the first key of APICRON_SECRET_KEY (one
    transaction), so that the keys after it can be retired."""
    with server_side("secret-key rotate"):
        from apicron.server import open_store
        from apicron.services.secret_rotation import rotate_stored_credentials
        from apicron.settings import Settings

    settings = _settings(data_dir=data_dir, database_url=database_url)
    assert isinstance(settings, Settings)
    ctx = open_store(settings)
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
