"""``kind: Api``: an API, named ``group/name`` (API names are unique within their group
only), with whether the gateway should serve it (``published``, default true).

An API can be named by its bare name where that is unambiguous (one API of that name in
the files and the instance); export always writes ``group/name``. A published API whose
draft changes is republished, so the gateway serves what the file says; an API whose draft
was edited after its last publish (outside apply) is republished too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from apicron.client import Api, ApiCreate, ApiUpdate, Client
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

PENDING_ID = "-"
DRAFT_FIELDS = ("description", "method", "path", "auth_type", "backend_url",
                "backend_timeout_ms")


class ApiSpec(ApiCreate):
    group: str
    published: bool = True


def api_key(group: str, name: str) -> str:
    return f"{group}/{name}"


def resolve_api(reference: str, planning: Planning) -> tuple[str | None, str]:
    """The key of the API ``reference`` names (``group/name`` or a bare name), or None and
    why not."""
    if "/" in reference:
        if planning.exists("Api", reference):
            return reference, ""
        return None, f"no API {reference!r} (group/name) in the files or the instance"
    keys = set(planning.declared.get("Api", set())) | set(planning.world.objects.get("Api", {}))
    matches = sorted(k for k in keys if k.partition("/")[2] == reference)
    if len(matches) == 1:
        return matches[0], ""
    if not matches:
        return None, f"no API named {reference!r} in the files or the instance"
    return None, (f"{len(matches)} APIs are named {reference!r} ({', '.join(matches)}); "
                  "write group/name")


class ApiKind(Kind[ApiSpec, Api]):
    """``{kind: Api, name, group, method, path, backend_url, auth_type, backend_timeout_ms,
    description, published}``."""

    name = "Api"
    reference_kinds: ClassVar[Mapping[str, str]] = {"group": "Group"}

    def fetch(self, client: Client, world: World) -> dict[str, Api]:
        return {api_key(world.key_of("Group", api.group_id), api.name): api
                for api in client.iter_apis()}

    def object_id(self, record: Api) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[ApiSpec]]:
        fields, refs, flags = split_document(document, self.reference_kinds, ("published",))
        spec = validate(ApiSpec, {**fields, **refs, **flags, "group_id": PENDING_ID})
        return [Declared(document, spec, api_key(spec.group, spec.name))]

    def claimed_key(self, document: Document) -> str | None:
        group, name = document.data.get("group"), document.data.get("name")
        return api_key(group, name) if isinstance(group, str) and isinstance(name, str) else None

    def resolve(self, declared: Declared[ApiSpec], planning: Planning
                ) -> Declared[ApiSpec] | None:
        if not planning.exists("Group", declared.spec.group):
            planning.refuse(declared.document,
                            f"group: no Group named {declared.spec.group!r} in the files or "
                            "the instance")
            return None
        return declared

    def changes(self, declared: Declared[ApiSpec], current: Api | None, planning: Planning
                ) -> list[Step]:
        spec, key, where = declared.spec, declared.key, declared.document.where()
        if current is None:
            def create(client: Client, world: World) -> None:
                fields = spec.model_dump(exclude={"group", "published"}, exclude_unset=True)
                fields["group_id"] = world.id_of("Group", spec.group)
                created = client.create_api(validate(ApiCreate, fields),
                                            publish=spec.published)
                world.register(self.name, key, created.id)

            details = ["published: true"] if spec.published else []
            return [Step("create", self.name, key, where, create, details)]
        now = current.model_dump(mode="json", include=set(DRAFT_FIELDS))
        changed = differences(now, spec.model_dump(mode="json", include=set(DRAFT_FIELDS)))
        details = detail_lines(now, changed)
        # The draft is ahead of what the gateway serves when it was edited after publishing.
        stale = (current.published and current.published_at is not None
                 and current.updated_at > current.published_at)
        publish = spec.published and (not current.published or bool(changed) or stale)
        unpublish = not spec.published and current.published
        if publish:
            details.append("published: false -> true" if not current.published else
                           "republished (the gateway serves the new draft)")
        if unpublish:
            details.append("published: true -> false")
        if not (changed or publish or unpublish):
            return []

        def update(client: Client, world: World) -> None:
            if changed:
                client.update_api(current.id, validate(ApiUpdate, changed))
            if publish:
                client.publish_api(current.id)
            if unpublish:
                client.unpublish_api(current.id)

        return [Step("update", self.name, key, where, update, details)]

    def removal(self, key: str, current: Api, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            if current.published:
                client.unpublish_api(current.id)
            client.delete_api(current.id)

        details = ["unpublished first"] if current.published else []
        return [Step("delete", self.name, key, f"Api {key!r} (not in the files)", delete,
                     details)]

    def export(self, records: Iterable[Api], world: World) -> list[dict[str, Any]]:
        defaults = {name: ApiCreate.model_fields[name].default for name in DRAFT_FIELDS}
        documents = []
        keyed = sorted(((api_key(world.key_of("Group", a.group_id), a.name), a) for a in records),
                       key=lambda pair: pair[0])
        for key, api in keyed:
            document: dict[str, Any] = {
                "kind": self.name, "name": api.name, "group": key.partition("/")[0]
            }
            for name in DRAFT_FIELDS:
                value = getattr(api, name)
                if name in ("method", "path", "backend_url") or value != defaults[name]:
                    document[name] = value
            if not api.published:
                document["published"] = False
            documents.append(document)
        return documents
