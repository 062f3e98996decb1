"""From resource files and an instance to the steps that make the instance match them.

:func:`load_world` reads the instance (every object of every kind, by key);
:func:`make_plan` checks every document and reference and returns the steps, or raises
ResourceFileError listing every problem (then nothing is changed); :func:`run_plan`
carries the steps out in order and stops at the first refusal, naming the document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from apicron.client import Client
from apicron.declarative.documents import (
    Document,
    Problem,
    ResourceFileError,
    problem_of,
)
from apicron.declarative.kinds import BY_NAME, KINDS
from apicron.declarative.kinds.base import Declared, Kind, Planning, Step, World
from apicron.declarative.preflight import check_prune, check_roles, check_routes
from apicron.domain.errors import ApicronError


def load_world(client: Client) -> World:
    """The instance's objects of every kind, by key, with their ids."""
    world = World(client.get_instance(), me=client.get_me())
    for kind in KINDS:
        objects = kind.fetch(client, world)
        world.objects[kind.name] = objects
        for key, record in objects.items():
            world.register(kind.name, key, kind.object_id(record))
    return world


@dataclass(frozen=True)
class Plan:
    """The steps in order, and ``notes``: documents left alone on purpose, and why (e.g. an
    expired task the instance does not have), said in dry and real runs alike."""

    steps: list[Step]
    notes: list[Problem] = dataclass_field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for step in self.steps if step.action == action)

    @property
    def deletions(self) -> list[Step]:
        return [step for step in self.steps if step.action == "delete"]

    def summary(self) -> str:
        if not self.steps:
            return "no changes"
        return (f"{self.count('create')} to create, {self.count('update')} to change, "
                f"{self.count('delete')} to delete")


def make_plan(
    documents: Sequence[Document], world: World, *, prune: bool = False, restart: bool = False
) -> Plan:
    """The steps, in order: each kind's creations and changes (kinds in their order,
    documents in file order), then with ``prune`` the deletion of every object of the
    kinds the files declare that they do not list (kinds in reverse order).

    Raises ResourceFileError with every problem found; nothing has been changed then.
    """
    problems: list[Problem] = []
    parsed: dict[str, list[Declared[Any]]] = {kind.name: [] for kind in KINDS}
    refused: dict[str, set[str]] = {kind.name: set() for kind in KINDS}
    for document in documents:
        kind = BY_NAME.get(document.kind)
        if kind is None:
            problems.append(Problem(document.where(), f"kind: {document.kind!r} is not one of "
                                                      f"{', '.join(BY_NAME)}"))
            continue
        try:
            parsed[kind.name].extend(kind.parse(document))
        except ApicronError as exc:
            problems.append(problem_of(document, exc))
            claimed = kind.claimed_key(document)
            if claimed is not None:
                refused[kind.name].add(claimed)
    # Refused documents count as declared for references: one problem is reported, once.
    declared = {name: {d.key for d in items} | refused[name] for name, items in parsed.items()}
    planning = Planning(world, declared, restart=restart, problems=problems)

    resolved: dict[str, list[Declared[Any]]] = {}
    for kind in KINDS:
        resolved[kind.name] = _resolved(kind, parsed[kind.name], planning)
        declared[kind.name] = {d.key for d in resolved[kind.name]} | refused[kind.name]

    planning.specs = {name: {d.key: d.spec for d in items} for name, items in resolved.items()}
    check_routes(resolved.get("Api", []), planning)
    steps: list[Step] = []
    for kind in KINDS:
        current = world.objects.get(kind.name, {})
        for item in resolved[kind.name]:
            steps.extend(kind.changes(item, current.get(item.key), planning))
    if prune:
        _refuse_pruned_references(resolved, parsed, planning)
        for kind in reversed(KINDS):
            if not parsed[kind.name]:
                continue  # only the kinds the files declare are pruned
            for key, record in world.objects.get(kind.name, {}).items():
                if key not in declared[kind.name]:
                    steps.extend(kind.removal(key, record, planning))
    check_prune(steps, planning)
    check_roles(steps, planning)
    if planning.problems:
        raise ResourceFileError(planning.problems)
    return Plan(steps, planning.notes)


def _refuse_pruned_references(
    resolved: dict[str, list[Declared[Any]]], parsed: dict[str, list[Declared[Any]]],
    planning: Planning,
) -> None:
    """An object the files name but do not list, of a kind they declare, would be pruned
    while still named: refused before anything changes."""
    for kind in KINDS:
        for item in resolved[kind.name]:
            for field, target, key in kind.references(item.spec):
                if parsed[target] and key not in planning.declared[target]:
                    planning.refuse(item.document, f"{field}: {target} {key!r} is not in the "
                                                   "files, and --prune would delete it")


def _resolved(kind: Kind[Any, Any], items: list[Declared[Any]], planning: Planning
              ) -> list[Declared[Any]]:
    """Each spec with its references checked; a key declared twice is a problem."""
    seen: dict[str, Declared[Any]] = {}
    for item in items:
        result = kind.resolve(item, planning)
        if result is None:
            continue
        first = seen.get(result.key)
        if first is not None:
            planning.refuse(item.document, f"{kind.name} {result.key!r} is declared twice "
                                           f"(first at {first.document.where()})")
            continue
        seen[result.key] = result
    return list(seen.values())


class ApplyFailed(ApicronError):
    """A step the server refused although the plan checked it (a concurrent change, or a
    rule only the server can check); the steps before it were made (``done``), none after
    (``not_made``)."""

    status = 400
    code = "APPLY_FAILED"

    def __init__(self, step: Step, error: ApicronError, done: int,
                 not_made: Sequence[Step] = ()):
        self.step = step
        self.error = error
        self.done = done
        #: The steps after the refused one, none of which was made.
        self.not_made = list(not_made)
        super().__init__(f"{step.where}: {error.message}")


def run_plan(plan: Plan, client: Client, world: World,
             report: Callable[[Step], None] = lambda step: None) -> None:
    """Carry out every step in order, calling ``report`` after each one.

    Raises ApplyFailed at the first step refused (an ApiError or a transport failure),
    naming the document the step came from.
    """
    for done, step in enumerate(plan.steps):
        try:
            step.run(client, world)
        except ApicronError as exc:
            raise ApplyFailed(step, exc, done, plan.steps[done + 1:]) from exc
        report(step)

