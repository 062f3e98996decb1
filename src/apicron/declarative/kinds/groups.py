"""``kind: Group``: an API group, by name, owned by an app (by name). A group cannot move
to another app: the server has no such change, so apply refuses it and says why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from apicron.client import Client, Group, GroupCreate, GroupUpdate
from apicron.declarative.documents import Document
from apicron.declarative.kinds.base import (
    Declared,
    Kind,
    Planning,
    Step,
    World,
    detail_lines,
    differences,
    split_document,
)
from apicron.domain.validation import validate

# A stand-in id while the spec is checked; the real one is known when the step runs.
PENDING_ID = "-"


class GroupSpec(GroupCreate):
    app: str


class GroupKind(Kind[GroupSpec, Group]):
    """``{kind: Group, name, app, description}``."""

    name = "Group"
    reference_kinds: ClassVar[Mapping[str, str]] = {"app": "App"}

    def fetch(self, client: Client, world: World) -> dict[str, Group]:
        return {group.name: group for group in client.iter_groups()}

    def object_id(self, record: Group) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[GroupSpec]]:
        fields, refs, _ = split_document(document, self.reference_kinds)
        spec = validate(GroupSpec, {**fields, **refs, "app_id": PENDING_ID})
        return [Declared(document, spec, spec.name)]

    def resolve(self, declared: Declared[GroupSpec], planning: Planning
                ) -> Declared[GroupSpec] | None:
        if not planning.exists("App", declared.spec.app):
            planning.refuse(declared.document,
                            f"app: no App named {declared.spec.app!r} in the files or the "
                            "instance")
            return None
        return declared

    def changes(self, declared: Declared[GroupSpec], current: Group | None,
                planning: Planning) -> list[Step]:
        spec, key, where = declared.spec, declared.key, declared.document.where()
        if current is None:
            def create(client: Client, world: World) -> None:
                fields = spec.model_dump(exclude={"app"}, exclude_unset=True)
                fields["app_id"] = world.id_of("App", spec.app)
                world.register(self.name, key, client.create_group(
                    validate(GroupCreate, fields)).id)

            return [Step("create", self.name, key, where, create)]
        owner = planning.world.key_of("App", current.app_id)
        if owner != spec.app:
            planning.refuse(
                declared.document,
                f"app: the group belongs to app {owner!r}, and a group cannot move to another "
                "app; give it another name (with --prune the old one is deleted) or delete it",
            )
            return []
        now = {"description": current.description}
        changed = differences(now, {"description": spec.description})
        if not changed:
            return []

        def update(client: Client, world: World) -> None:
            client.update_group(current.id, validate(GroupUpdate, changed))

        return [Step("update", self.name, key, where, update, detail_lines(now, changed))]

    def removal(self, key: str, current: Group, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            client.delete_group(current.id)

        return [Step("delete", self.name, key, f"Group {key!r} (not in the files)", delete)]

    def export(self, records: Iterable[Group], world: World) -> list[dict[str, Any]]:
        documents = []
        for group in sorted(records, key=lambda g: g.name):
            document: dict[str, Any] = {
                "kind": self.name, "name": group.name, "app": world.key_of("App", group.app_id)
            }
            if group.description:
                document["description"] = group.description
            documents.append(document)
        return documents
