"""Resource commands over the REST API: app, group, api, grant, task, instance.

The commands live in ``<resource>_commands.py``; this module attaches them to the CLI and
holds what they share: the REST client, resolving an id-or-name argument, paging through
lists, local input checks and the printing conventions.

Conventions every command follows:
- an app, group, API or task is given by id or by name (exact match, case-sensitive);
- ``list`` prints an aligned table (``--json``: the raw page); ``show``, ``create`` and
  state changes print the JSON object on stdout; notes go to stderr;
- bad local input fails with one line naming the option and exit code 2; a refusal from
  the server prints its ``error_msg`` (which names the field) and exits 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from apicron.cli.output import fail

if TYPE_CHECKING:
    from apicron.cli.client import Client

Json = dict[str, Any]

# The server's ids (uuid4 hex) and names (domain.rules.NAME_PATTERN); repeated here so
# that the CLI does not import the domain layer (pydantic) just to start.
ID_PATTERN = re.compile(r"[0-9a-f]{32}")
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,63}")
PAGE_MAX = 500  # the API's largest ``limit``

USAGE_ERROR = 2

# Options every ``list`` command takes.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the raw JSON page.")]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Items to skip.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=PAGE_MAX, help="Items to show.")]
NameArg = Annotated[
    str, typer.Argument(metavar="NAME", help="Name: 3-64 letters, digits, '_' or '-'.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def register(app: typer.Typer) -> None:
    # Imported here: the command modules import this module's helpers.
    from apicron.cli import (
        api_commands,
        app_commands,
        grant_commands,
        group_commands,
        instance_commands,
        node_commands,
        task_commands,
    )

    app.add_typer(instance_commands.cli, name="instance")
    app.add_typer(app_commands.cli, name="app")
    app.add_typer(group_commands.cli, name="group")
    app.add_typer(api_commands.cli, name="api")
    app.add_typer(grant_commands.cli, name="grant")
    app.add_typer(task_commands.cli, name="task")
    app.command("nodes")(node_commands.nodes)


def connect() -> Client:
    """The REST client (``APICRON_URL``, the admin token); imported late to start fast."""
    from apicron.cli.client import Client

    return Client()


def usage(option: str, message: str) -> NoReturn:
    """Bad local input: one line naming the option, exit code 2."""
    fail(f"{option}: {message}", code=USAGE_ERROR)


def note(message: str) -> None:
    typer.echo(message, err=True)


def choice(option: str, value: str | None, choices: Iterable[str]) -> str | None:
    """``value`` upper-cased if it is one of ``choices`` (case-insensitive)."""
    if value is None:
        return None
    allowed = list(choices)
    upper = value.upper()
    if upper not in allowed:
        usage(option, f"must be one of {', '.join(allowed)} (got {value!r})")
    return upper


def given(**fields: Any) -> Json:
    """The fields that are not None: what a PUT that changes only the given fields sends."""
    return {k: v for k, v in fields.items() if v is not None}


def require_changes(body: Json, options: str | None = None) -> None:
    if not body:
        wanted = f"at least one of {options}" if options else "at least one option (see --help)"
        usage("options", f"nothing to change; give {wanted}")


# --- resources by id or name --------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    path: str
    noun: str


APPS = Kind("/v1/apps", "integration app")
GROUPS = Kind("/v1/api-groups", "API group")
APIS = Kind("/v1/apis", "API")
TASKS = Kind("/v1/tasks", "scheduled task")


def fetch_all(client: Client, path: str, params: Json | None = None) -> list[Json]:
    """Every item of a list endpoint, page by page."""
    items: list[Json] = []
    while True:
        page = client.call(
            "GET", path, params={**(params or {}), "offset": len(items), "limit": PAGE_MAX}
        )
        batch: list[Json] = page["items"]
        items.extend(batch)
        if not batch or len(items) >= page["total"]:
            return items


def resolve(client: Client, kind: Kind, value: str, option: str, **filters: Any) -> Json:
    """The object ``value`` names: an exact name match first, else the object with that id.

    A name shared by several objects (API names are unique only within their group) is
    refused with the candidates' ids, never guessed.
    """
    if NAME_PATTERN.fullmatch(value):
        candidates = fetch_all(client, kind.path, {"name": value, **given(**filters)})
        exact = [item for item in candidates if item["name"] == value]
        if len(exact) == 1:
            return exact[0]
        if exact:
            where = ", ".join(_describe_candidate(item) for item in exact)
            usage(option, f"{len(exact)} {kind.noun}s are named {value!r} ({where}); give the id")
    if ID_PATTERN.fullmatch(value):
        # The server answers 404 "no … with id …" if there is none.
        found: Json = client.call("GET", f"{kind.path}/{value}")
        return found
    fail(f"{option}: no {kind.noun} named {value!r}")


def act(kind: Kind, value: str, option: str, action: str) -> Json:
    """Resolve ``value`` and POST ``/{id}/{action}`` (start, stop, run, publish…)."""
    client = connect()
    found = resolve(client, kind, value, option)
    answer: Json = client.call("POST", f"{kind.path}/{found['id']}/{action}")
    return answer


def resolve_id(client: Client, kind: Kind, value: str | None, option: str) -> str | None:
    return None if value is None else str(resolve(client, kind, value, option)["id"])


def _describe_candidate(item: Json) -> str:
    if "group_id" in item:
        return f"{item['id']} in group {item['group_id']}"
    return str(item["id"])


def names_by_id(client: Client, kind: Kind, ids: Iterable[str]) -> dict[str, str]:
    """Names for the ids a table shows (one request); an unknown id stays an id."""
    wanted = set(ids)
    if not wanted:
        return {}
    page = client.call("GET", kind.path, params={"limit": PAGE_MAX})
    return {item["id"]: item["name"] for item in page["items"] if item["id"] in wanted}


def list_page(client: Client, path: str, params: Json, offset: int, limit: int) -> Json:
    page: Json = client.call("GET", path, params={**params, "offset": offset, "limit": limit})
    return page


def page_footer(page: Json, offset: int) -> None:
    """On stderr, so that stdout is only the table: where this page sits in the total."""
    shown, total = len(page["items"]), page["total"]
    if total > shown:
        note(f"{shown} of {total} shown (from offset {offset}); use --offset/--limit for more")
