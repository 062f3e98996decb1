"""``kind: Grant``: the APIs an app may call although another app owns them (app-auths).

One document per app lists its APIs: ``{kind: Grant, app: reporting, apis: [orders/sync]}``;
each (app, API) pair is one grant, keyed ``app -> group/api``. A grant has nothing to
change: it exists or it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from apicron.client import Client, Grant, GrantCreate
from apicron.declarative.documents import Document
from apicron.declarative.kinds.apis import resolve_api
from apicron.declarative.kinds.base import Declared, Kind, Planning, Step, World, split_document
from apicron.domain.errors import InvalidInput
from apicron.domain.validation import validate


@dataclass(frozen=True)
class GrantSpec:
    app: str
    api: str  # as written; "group/name" once resolved
    field: str  # where in the document, e.g. "apis[1]"


def grant_key(app: str, api: str) -> str:
    return f"{app} -> {api}"


class GrantKind(Kind[GrantSpec, Grant]):
    """``{kind: Grant, app, apis: [API, …]}``."""

    name = "Grant"
    reference_kinds: ClassVar[Mapping[str, str]] = {"app": "App"}

    def fetch(self, client: Client, world: World) -> dict[str, Grant]:
        return {
            grant_key(world.key_of("App", g.app_id), world.key_of("Api", g.api_id)): g
            for g in client.iter_grants()
        }

    def object_id(self, record: Grant) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[GrantSpec]]:
        fields, refs, _ = split_document(document, self.reference_kinds)
        apis = fields.pop("apis", None)
        for unknown in fields:
            raise InvalidInput("is not a known field", field=unknown)
        if not isinstance(apis, list) or not apis:
            raise InvalidInput("must list at least one API (group/name)", field="apis")
        specs = []
        for index, api in enumerate(apis):
            if not isinstance(api, str) or not api.strip():
                raise InvalidInput("must be an API's group/name", field=f"apis[{index}]")
            spec = GrantSpec(refs["app"], api.strip(), f"apis[{index}]")
            specs.append(Declared(document, spec, grant_key(spec.app, spec.api)))
        return specs

    def claimed_key(self, document: Document) -> str | None:
        return None

    def resolve(self, declared: Declared[GrantSpec], planning: Planning
                ) -> Declared[GrantSpec] | None:
        spec = declared.spec
        if not planning.exists("App", spec.app):
            planning.refuse(declared.document,
                            f"app: no App named {spec.app!r} in the files or the instance")
            return None
        key, why = resolve_api(spec.api, planning)
        if key is None:
            planning.refuse(declared.document, f"{spec.field}: {why}")
            return None
        return Declared(declared.document, replace(spec, api=key), grant_key(spec.app, key))

    def references(self, spec: GrantSpec) -> list[tuple[str, str, str]]:
        return [("app", "App", spec.app), (spec.field, "Api", spec.api)]

    def changes(self, declared: Declared[GrantSpec], current: Grant | None,
                planning: Planning) -> list[Step]:
        if current is not None:
            return []
        spec, key = declared.spec, declared.key

        def create(client: Client, world: World) -> None:
            request = validate(GrantCreate, {"app_id": world.id_of("App", spec.app),
                                             "api_ids": [world.id_of("Api", spec.api)]})
            (created,) = client.create_grants(request).items
            world.register(self.name, key, created.id)

        return [Step("create", self.name, key, declared.document.where(), create)]

    def removal(self, key: str, current: Grant, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            client.delete_grant(current.id)

        return [Step("delete", self.name, key, f"Grant {key!r} (not in the files)", delete)]

    def export(self, records: Iterable[Grant], world: World) -> list[dict[str, Any]]:
        by_app: dict[str, list[str]] = {}
        for grant in records:
            app = world.key_of("App", grant.app_id)
            by_app.setdefault(app, []).append(world.key_of("Api", grant.api_id))
        return [{"kind": self.name, "app": app, "apis": sorted(apis)}
                for app, apis in sorted(by_app.items())]
