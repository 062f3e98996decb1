"""An app, group, API or task given on the command line by id or by name.

A name is matched exactly (case-sensitive) first; a value that is no name but has the
shape of an id is fetched by id; an API may be given as ``group/name``. A name several
objects share (API names are unique only within their group) is refused with the
candidates' ids, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from apicron.cli.output import fail, usage

if TYPE_CHECKING:
    from apicron.client import Api, App, Calendar, Channel, Client, Group, Task

# The server's ids (uuid4 hex) and names (domain.rules.NAME_PATTERN).
ID_PATTERN = re.compile(r"[0-9a-f]{32}")
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,63}")


class Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


@dataclass(frozen=True)
class Kind(Generic[N]):
    noun: str
    # Every object whose name contains the text (None: every object).
    find: Callable[[Client, str | None], Iterator[N]]
    get: Callable[[Client, str], N]


APPS: Kind[App] = Kind(
    "integration app", lambda c, n: c.iter_apps(name=n), lambda c, i: c.get_app(i)
)
GROUPS: Kind[Group] = Kind(
    "API group", lambda c, n: c.iter_groups(name=n), lambda c, i: c.get_group(i)
)
APIS: Kind[Api] = Kind("API", lambda c, n: c.iter_apis(name=n), lambda c, i: c.get_api(i))
TASKS: Kind[Task] = Kind(
    "scheduled task", lambda c, n: c.iter_tasks(name=n), lambda c, i: c.get_task(i)
)


CHANNELS: Kind[Channel] = Kind(
    "channel",
    lambda c, n: (ch for ch in c.iter_channels() if n is None or n.lower() in ch.name.lower()),
    lambda c, i: c.get_channel(i),
)

CALENDARS: Kind[Calendar] = Kind(
    "calendar", lambda c, n: c.iter_calendars(name=n), lambda c, i: c.get_calendar(i)
)


def resolve(client: Client, kind: Kind[N], value: str, option: str) -> N:
    """The object ``value`` names (see the module's docstring); exits when there is none.

    An API may also be named ``group/name``, as apply files name it (API names are unique
    only within their group)."""
    if kind is APIS and value.count("/") == 1:
        group_name, name = value.split("/")
        group = resolve(client, GROUPS, group_name, option)
        found = [item for item in kind.find(client, name)
                 if item.name == name and getattr(item, "group_id", None) == group.id]
        if len(found) == 1:
            return found[0]
        fail(f"{option}: no API named {name!r} in group {group_name!r}")
    if NAME_PATTERN.fullmatch(value):
        exact = [item for item in kind.find(client, value) if item.name == value]
        if len(exact) == 1:
            return exact[0]
        if exact:
            where = ", ".join(_describe(item) for item in exact)
            usage(option, f"{len(exact)} {kind.noun}s are named {value!r} ({where}); give the id")
    if ID_PATTERN.fullmatch(value):
        # The server answers 404 "no … with id …" if there is none.
        return kind.get(client, value)
    fail(f"{option}: no {kind.noun} named {value!r}")


def resolve_id(client: Client, kind: Kind[N], value: str | None, option: str) -> str | None:
    return None if value is None else resolve(client, kind, value, option).id


def names_by_id(client: Client, kind: Kind[N], ids: Iterable[str]) -> dict[str, str]:
    """Names for the ids a table shows; an id that is gone stays an id."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {item.id: item.name for item in kind.find(client, None) if item.id in wanted}


def _describe(item: Named) -> str:
    group_id = getattr(item, "group_id", None)  # API names are unique within a group only
    return f"{item.id} in group {group_id}" if group_id else item.id
