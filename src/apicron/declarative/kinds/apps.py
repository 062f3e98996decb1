"""``kind: App``: an integration app, by name. Its key and secret are the server's: never
in a file, never exported (``apicron app reset-secret`` shows a new secret)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apicron.client import App, AppCreate, AppUpdate, Client
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


class AppKind(Kind[AppCreate, App]):
    """``{kind: App, name, description}``."""

    name = "App"

    def fetch(self, client: Client, world: World) -> dict[str, App]:
        return {app.name: app for app in client.iter_apps()}

    def object_id(self, record: App) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[AppCreate]]:
        fields, _, _ = split_document(document, ())
        spec = validate(AppCreate, fields)
        return [Declared(document, spec, spec.name)]

    def changes(self, declared: Declared[AppCreate], current: App | None, planning: Planning
                ) -> list[Step]:
        spec, key = declared.spec, declared.key
        if current is None:
            def create(client: Client, world: World) -> None:
                # The answer carries the new secret: deliberately dropped, never printed.
                world.register(self.name, key, client.create_app(spec).id)

            return [Step("create", self.name, key, declared.document.where(), create)]
        now = {"description": current.description}
        changed = differences(now, {"description": spec.description})
        if not changed:
            return []

        def update(client: Client, world: World) -> None:
            client.update_app(current.id, validate(AppUpdate, changed))

        return [Step("update", self.name, key, declared.document.where(), update,
                     detail_lines(now, changed))]

    def removal(self, key: str, current: App, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            client.delete_app(current.id)

        return [Step("delete", self.name, key, f"App {key!r} (not in the files)", delete)]

    def export(self, records: Iterable[App], world: World) -> list[dict[str, Any]]:
        documents = []
        for app in sorted(records, key=lambda a: a.name):
            document: dict[str, Any] = {"kind": self.name, "name": app.name}
            if app.description:
                document["description"] = app.description
            documents.append(document)
        return documents
