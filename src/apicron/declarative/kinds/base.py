"""The contract every kind of resource implements, documented once.

A kind (App, Group, Api, Grant, Channel, Task, User; calendars to come) knows how to:

- ``fetch`` the instance's objects of the kind, each under its **key** (what names it in a
  file: an app's name, an API's ``group/name``, a grant's ``app -> group/api``);
- ``parse`` a document into specs (domain input models checked with the server's rules;
  errors are ``InvalidInput`` naming the document's field);
- ``resolve`` a spec's references to other objects (by key) against what the files and
  the instance hold;
- plan the ``changes`` that turn the current object (or none) into the spec, and the
  ``removal`` of an object the files no longer list (``--prune``), as :class:`Step`\\ s
  that print themselves and run through :class:`apicron.client.Client`;
- ``export`` the instance's objects as documents that apply back to no change.

Kinds are applied in the order of :data:`apicron.declarative.kinds.KINDS` (apps before the
groups that name them, …, tasks last) and pruned in the reverse order.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from apicron.client import Client, Instance, Me
from apicron.declarative.documents import Document, Problem
from apicron.domain.errors import InvalidInput

S = TypeVar("S")
R = TypeVar("R")

Action = Literal["create", "update", "delete"]
SYMBOLS: dict[Action, str] = {"create": "+", "update": "~", "delete": "-"}


@dataclass
class World:
    """The instance as apply sees it: each kind's objects by key, and the id of each key
    (including the objects apply creates as it goes)."""

    instance: Instance
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Who applies (``GET /v1/me``), for the role checks of the plan; None: not known.
    me: Me | None = None
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    def register(self, kind: str, key: str, object_id: str) -> None:
        self.ids.setdefault(kind, {})[key] = object_id
        self.keys.setdefault(kind, {})[object_id] = key

    def id_of(self, kind: str, key: str) -> str:
        """The id of an object named in a file; the plan checked that it exists (or is
        created before it is needed)."""
        return self.ids[kind][key]

    def key_of(self, kind: str, object_id: str) -> str:
        """The key of an object by id; an id no object of the kind has stays the id."""
        return self.keys.get(kind, {}).get(object_id, object_id)


@dataclass(frozen=True)
class Declared(Generic[S]):
    """A spec and the document that declared it (for error messages)."""

    document: Document
    spec: S
    key: str


@dataclass
class Step:
    """One change to the instance: ``action`` on the object ``key`` of ``kind``, the
    ``details`` shown under it (``field: old -> new``), and ``run`` to carry it out."""

    action: Action
    kind: str
    key: str
    where: str
    run: Callable[[Client, World], None]
    details: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{SYMBOLS[self.action]} {self.kind} {self.key}",
                *(f"    {d}" for d in self.details)]


@dataclass
class Planning:
    """What a kind sees while planning: the instance, the keys every kind's documents
    declare, the options, and where to report problems (all are reported together and
    nothing is changed)."""

    world: World
    declared: dict[str, set[str]]
    restart: bool = False
    problems: list[Problem] = field(default_factory=list)
    #: Each kind's resolved specs by key (filled once every kind is resolved), so that a
    #: kind can check what the files say of the objects it names.
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Documents apply leaves alone on purpose, and why (shown in dry and real runs alike).
    notes: list[Problem] = field(default_factory=list)
    #: The clock the time rules are checked against (the server checks again on write).
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def exists(self, kind: str, key: str) -> bool:
        """Whether the files declare it or the instance has it."""
        return key in self.declared.get(kind, set()) or key in self.world.objects.get(kind, {})

    def refuse(self, document: Document | str, message: str) -> None:
        where = document.where() if isinstance(document, Document) else document
        self.problems.append(Problem(where, message))

    def note(self, document: Document, message: str) -> None:
        """A document apply leaves alone on purpose: said, not an error."""
        self.notes.append(Problem(document.where(), message))


class Kind(ABC, Generic[S, R]):
    """One kind of resource (see the module's docstring). ``S`` is its spec, ``R`` the
    record the client returns."""

    name: ClassVar[str]
    #: Keys of a document of this kind that name another object, and that object's kind.
    reference_kinds: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    def fetch(self, client: Client, world: World) -> dict[str, R]:
        """Every object of the kind on the instance, by key (kinds earlier in the order
        are in ``world`` already, for keys that name them)."""

    @abstractmethod
    def object_id(self, record: R) -> str: ...

    @abstractmethod
    def parse(self, document: Document) -> list[Declared[S]]:
        """The document's specs; InvalidInput naming the field when it breaks a rule."""

    def claimed_key(self, document: Document) -> str | None:
        """The key a document that ``parse`` refused was meant to declare, so that others
        naming it are not reported too (its own problem is)."""
        name = document.data.get("name")
        return name if isinstance(name, str) else None

    def resolve(self, declared: Declared[S], planning: Planning) -> Declared[S] | None:
        """The spec with its references checked (and completed); None after a problem."""
        return declared

    def references(self, spec: S) -> list[tuple[str, str, str]]:
        """(field, kind, key) of every object a resolved spec names."""
        return [(name, kind, str(getattr(spec, name)))
                for name, kind in self.reference_kinds.items()]

    @abstractmethod
    def changes(self, declared: Declared[S], current: R | None, planning: Planning
                ) -> list[Step]:
        """The steps that make ``current`` (None: absent) what ``declared`` says."""

    @abstractmethod
    def removal(self, key: str, current: R, planning: Planning) -> list[Step]:
        """The steps that delete ``current`` (``--prune``)."""

    @abstractmethod
    def export(self, records: Iterable[R], world: World) -> list[dict[str, Any]]:
        """Documents for ``records``: what ``parse`` reads back, secrets never included."""


# --- helpers the kinds share ----------------------------------------------------------------


def split_document(
    document: Document, references: Iterable[str], flags: Iterable[str] = ()
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The document as (spec fields, references, flags), without ``kind``.

    References must be non-empty strings; flags (``published``, ``started``) booleans when
    given. Raises InvalidInput naming the field otherwise.
    """
    fields = {k: v for k, v in document.data.items() if k != "kind"}
    refs: dict[str, Any] = {}
    for name in references:
        value = fields.pop(name, None)
        if value is None:
            raise InvalidInput("is required", field=name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput("must be a name (a string)", field=name)
        refs[name] = value.strip()
    found: dict[str, Any] = {}
    for name in flags:
        if name in fields:
            value = fields.pop(name)
            if not isinstance(value, bool):
                raise InvalidInput("must be true or false", field=name)
            found[name] = value
    return fields, refs, found


def shown(value: Any) -> str:
    """A value in a diff line: JSON, so that strings are quoted and nothing is ambiguous."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def differences(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``desired`` whose value differs from ``current``'s."""
    return {k: v for k, v in desired.items() if current.get(k) != v}


def detail_lines(current: dict[str, Any], changed: dict[str, Any]) -> list[str]:
    return [f"{k}: {shown(current.get(k))} -> {shown(v)}" for k, v in changed.items()]
