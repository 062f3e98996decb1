"""``kind: User``: a user and their role, by username. Passwords and API tokens are never in
a file and never exported: a user created by ``apply`` signs in with tokens until an admin
gives them a password (``apicron user update NAME --new-password``, or the console)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apicron.client import Client, Forbidden, User, UserCreate, UserUpdate
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
from apicron.domain.errors import InvalidInput
from apicron.domain.validation import validate

_SECRETS = ("password", "token", "tokens")


class UserKind(Kind[UserCreate, User]):
    """``{kind: User, username, display_name, role, disabled}`` (admin only)."""

    name = "User"

    def fetch(self, client: Client, world: World) -> dict[str, User]:
        # Users are the admin's: for other roles the instance simply shows none, so that
        # their export and apply of the other kinds work (a User document is refused 403
        # when applied).
        try:
            return {user.username: user for user in client.iter_users()}
        except Forbidden:
            return {}

    def object_id(self, record: User) -> str:
        return record.id

    def claimed_key(self, document: Document) -> str | None:
        name = document.data.get("username")
        return name if isinstance(name, str) else None

    def parse(self, document: Document) -> list[Declared[UserCreate]]:
        fields, _, _ = split_document(document, ())
        for secret in _SECRETS:
            if secret in fields:
                raise InvalidInput(
                    "is never kept in a file; set a password with `apicron user update "
                    "NAME --new-password` or in the console, tokens with `apicron token "
                    "create`", field=secret)
        spec = validate(UserCreate, fields)
        return [Declared(document, spec, spec.username)]

    def changes(self, declared: Declared[UserCreate], current: User | None,
                planning: Planning) -> list[Step]:
        spec, key = declared.spec, declared.key
        if current is None:
            def create(client: Client, world: World) -> None:
                world.register(self.name, key, client.create_user(spec).id)

            return [Step("create", self.name, key, declared.document.where(), create)]
        now = {"display_name": current.display_name, "role": current.role,
               "disabled": current.disabled}
        changed = differences(now, {"display_name": spec.display_name, "role": spec.role,
                                    "disabled": spec.disabled})
        if not changed:
            return []

        def update(client: Client, world: World) -> None:
            client.update_user(current.id, validate(UserUpdate, changed))

        return [Step("update", self.name, key, declared.document.where(), update,
                     detail_lines(now, changed))]

    def removal(self, key: str, current: User, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            client.delete_user(current.id)

        return [Step("delete", self.name, key, f"User {key!r} (not in the files)", delete)]

    def export(self, records: Iterable[User], world: World) -> list[dict[str, Any]]:
        documents = []
        for user in sorted(records, key=lambda u: u.username):
            document: dict[str, Any] = {"kind": self.name, "username": user.username,
                                        "role": user.role}
            if user.display_name:
                document["display_name"] = user.display_name
            if user.disabled:
                document["disabled"] = True
            documents.append(document)
        return documents
