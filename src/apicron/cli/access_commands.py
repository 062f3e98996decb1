"""``apicron user|token|me|audit|profile``: users and roles, API tokens, who am I, the
audit log, and the profile file the CLI reads its URL and token from."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from apicron.cli.connection import connect, target_url
from apicron.cli.inputs import (
    DEFAULT_LIMIT,
    JsonOpt,
    LimitOpt,
    OffsetOpt,
    YesOpt,
    given,
    model,
    require_changes,
)
from apicron.cli.lookup import ID_PATTERN
from apicron.cli.output import fail, note, page_footer, show, table, usage
from apicron.domain.vocabulary import Role, choices

if TYPE_CHECKING:
    from apicron.client import Client, User

users_cli = typer.Typer(help="Users and their roles (admin, operator, viewer).",
                        no_args_is_help=True)
tokens_cli = typer.Typer(help="Personal API tokens (Authorization: Bearer, APICRON_TOKEN).",
                         no_args_is_help=True)
audit_cli = typer.Typer(help="The audit log: who changed what, when, from where.",
                        no_args_is_help=True)
profile_cli = typer.Typer(help="Profiles: the URL and token the CLI uses, kept in "
                          "~/.config/apicron/profiles.toml (mode 0600).", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(metavar="USER", help="The user's username or id.")]
RoleOpt = Annotated[
    str | None, typer.Option("--role", metavar="ROLE", help="admin, operator or viewer.")
]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input "
                       "(one line) instead of asking for it.")
]
ROLES = choices(Role)
ONCE_NOTE = ("note: the token is shown only now and stored as a hash; keep it safe "
             "(e.g. APICRON_TOKEN, or `apicron profile set NAME --token-stdin`)")


def _role(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered not in ROLES:
        usage("--role", f"must be one of {', '.join(ROLES)} (got {value!r})")
    return lowered


def _read_secret(stdin: bool, what: str, confirm: bool = True) -> str:
    if stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        usage(f"--{what}-stdin", f"no terminal to ask for the {what} on: pass --{what}-stdin "
              f"and write it to standard input")
    return str(typer.prompt(what.capitalize(), hide_input=True, confirmation_prompt=confirm,
                            err=True))


def resolve_user(client: Client, value: str) -> User:
    """The user ``value`` names: a username first, else an id; exits when there is none."""
    for user in client.iter_users():
        if user.username == value:
            return user
    if ID_PATTERN.fullmatch(value):
        return client.get_user(value)
    fail(f"USER: no user named {value!r}")


# --- users --------------------------------------------------------------------------------


@users_cli.command("create")
def user_create(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    role: RoleOpt = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    password_stdin: PasswordStdinOpt = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No console login: API tokens only.")
    ] = False,
) -> None:
    """Create a user (admin); asks for the password unless --password-stdin or
    --no-password. The first admin is created with the admin token (root)."""
    from apicron.client import UserCreate

    if role is None:
        usage("--role", "is required: admin, operator or viewer")
    password = None if no_password else _read_secret(password_stdin, "password")
    spec = model(UserCreate, given(username=username, role=_role(role),
                                   display_name=display_name, password=password))
    show(connect().create_user(spec))


@users_cli.command("list")
def user_list(as_json: JsonOpt = False, offset: OffsetOpt = 0,
              limit: LimitOpt = DEFAULT_LIMIT) -> None:
    """List users (admin)."""
    page = connect().list_users(offset=offset, limit=limit)
    if as_json:
        show(page)
        return
    table([u.model_dump(mode="json") for u in page.items],
          ["username", "role", "disabled", "display_name", "id", "created_at"])
    page_footer(page.total, len(page.items), offset)


@users_cli.command("show")
def user_show(user: UserArg) -> None:
    """Print a user (admin)."""
    show(resolve_user(connect(), user))


@users_cli.command("update")
def user_update(
    user: UserArg,
    role: RoleOpt = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    disabled: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Disable or enable the user.")
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    new_password: Annotated[
        bool, typer.Option("--new-password", help="Ask for a new password.")] = False,
) -> None:
    """Change a user's role, display name, state or password (admin)."""
    from apicron.client import UserUpdate

    password = (_read_secret(password_stdin, "password")
                if password_stdin or new_password else None)
    fields = given(role=_role(role), display_name=display_name, disabled=disabled,
                   password=password)
    require_changes(fields, "--role, --display-name, --disable/--enable, --new-password")
    client = connect()
    show(client.update_user(resolve_user(client, user).id, model(UserUpdate, fields)))


@users_cli.command("delete")
def user_delete(user: UserArg, yes: YesOpt = False) -> None:
    """Delete a user (admin): their sessions and API tokens end at once."""
    client = connect()
    found = resolve_user(client, user)
    if not yes:
        typer.confirm(f"Delete user {found.username!r}?", abort=True, err=True)
    client.delete_user(found.id)
    note(f"deleted user {found.username!r} ({found.id})")


# --- tokens -------------------------------------------------------------------------------


def _user_id(client: Client, user: str | None) -> str:
    if user is not None:
        return resolve_user(client, user).id
    me = client.get_me()
    if me.user_id is None:
        usage("--user", "is required with the admin token (root has no tokens of its own)")
    return me.user_id


@tokens_cli.command("create")
def token_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="e.g. laptop-cli")],
    user: Annotated[str | None, typer.Option(
        "--user", metavar="USER", help="Whose token (admin); default: yours.")] = None,
    expires_in: Annotated[int, typer.Option(
        "--expires-in", min=1, max=366, metavar="DAYS", help="Days until it expires.")] = 90,
    role: RoleOpt = None,
) -> None:
    """Create an API token; prints it (the token only this once)."""
    from apicron.client import TokenCreate

    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=expires_in)
    spec = model(TokenCreate, given(name=name, role=_role(role), expires_at=expires_at))
    client = connect()
    show(client.create_token(_user_id(client, user), spec))
    note(ONCE_NOTE)


@tokens_cli.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(
        "--user", metavar="USER", help="Whose tokens (admin); default: yours.")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List API tokens (never the tokens themselves)."""
    client = connect()
    page = client.list_tokens(_user_id(client, user), offset=offset, limit=limit)
    if as_json:
        show(page)
        return
    table([t.model_dump(mode="json") for t in page.items],
          ["name", "role", "created_at", "last_used_at", "expires_at", "id"])
    page_footer(page.total, len(page.items), offset)


@tokens_cli.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID")]) -> None:
    """Revoke an API token: refused from the next request on, on every node."""
    connect().revoke_token(token_id)
    note(f"revoked API token {token_id}")


# --- me, audit ----------------------------------------------------------------------------


def me() -> None:
    """Who the CLI's token acts as, and with which role."""
    show(connect().get_me())


@audit_cli.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option("--actor", help="Username, or root.")] = None,
    resource_type: Annotated[str | None, typer.Option(
        "--resource-type", help="task, api, group, app, grant, instance, user, token, "
        "session, sign-in")] = None,
    resource_id: Annotated[str | None, typer.Option("--resource-id")] = None,
    action: Annotated[str | None, typer.Option(
        "--action", help="create, update, delete, start, stop, run, publish, grant, "
        "revoke, reset-secret, login, …")] = None,
    since: Annotated[str | None, typer.Option(
        "--from", metavar="TIME", help="At or after (RFC 3339, with an offset).")] = None,
    until: Annotated[str | None, typer.Option(
        "--to", metavar="TIME", help="Before (RFC 3339, with an offset).")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List audit entries, newest first (operator, admin)."""
    page = connect().list_audit(actor=actor, resource_type=resource_type,
                                resource_id=resource_id, action=action, since=since,
                                until=until, offset=offset, limit=limit)
    if as_json:
        show(page)
        return
    rows = []
    for entry in page.items:
        who = entry.actor + (f" (token {entry.token_name})" if entry.token_name else "")
        changed = ", ".join(sorted(entry.changes or {}))
        rows.append({"at": entry.at.strftime("%Y-%m-%dT%H:%M:%SZ"), "actor": who,
                     "action": entry.action, "resource": entry.resource_type,
                     "name": entry.resource_name or entry.resource_id,
                     "address": entry.address, "changed": changed or None})
    table(rows, ["at", "actor", "action", "resource", "name", "address", "changed"])
    page_footer(page.total, len(page.items), offset)


# --- profiles -----------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(c) < 32 or ord(c) == 127 for c in escaped):
        usage("value", "must not contain control characters")
    return f'"{escaped}"'


@profile_cli.command("set")
def profile_set(
    name: Annotated[str, typer.Argument(metavar="NAME", help="e.g. default, prod")] = "default",
    url: Annotated[str | None, typer.Option("--url", metavar="URL")] = None,
    token_stdin: Annotated[bool, typer.Option(
        "--token-stdin", help="Read the token from standard input (else asked for).")] = False,
) -> None:
    """Save a profile's URL (default: the current --url) and token, mode 0600."""
    from apicron.client.environment import profiles_path, read_profiles

    if not name.replace("-", "").replace("_", "").isalnum():
        usage("NAME", "must be letters, digits, '-' and '_'")
    token = _read_secret(token_stdin, "token", confirm=False).strip()
    if not token:
        usage("--token-stdin", "no token given")
    path = profiles_path()
    profiles = read_profiles(path)
    profiles[name] = {"url": (url or target_url()).rstrip("/"), "token": token}
    text = "".join(
        f"[{profile}]\n" + "".join(f"{key} = {_toml_string(str(value))}\n"
                                   for key, value in table.items() if isinstance(value, str))
        + "\n"
        for profile, table in profiles.items()
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
    note(f"saved profile {name!r} ({profiles[name]['url']}) in {path}")
