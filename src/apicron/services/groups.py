"""API groups: an API's integration app is its group's app."""

from __future__ import annotations

from apicron.domain.access import Permission
from apicron.domain.errors import Conflict, InvalidInput, NotFound
from apicron.domain.models import Group, GroupCreate, GroupUpdate, Page
from apicron.services.audit import audit
from apicron.services.context import Context, new_id
from apicron.store.rows import GroupChanges
from apicron.store.store import Queries

DOMAIN_SUFFIX = "apicron.internal"


def load_group(q: Queries, group_id: str) -> Group:
    group = q.get_group(group_id)
    if group is None:
        raise NotFound(f"no API group with id {group_id!r}")
    return group


def create_group(ctx: Context, spec: GroupCreate) -> Group:
    ctx.require(Permission.APIS)
    now, group_id = ctx.now(), new_id()
    with ctx.store.write() as q:
        if q.get_app(spec.app_id) is None:
            raise InvalidInput(f"no integration app with id {spec.app_id!r}", field="app_id")
        q.insert_group(
            {
                "id": group_id,
                "name": spec.name,
                "description": spec.description,
                "app_id": spec.app_id,
                # The Host that routes to this group when app_route is off.
                "domain": f"{group_id}.{DOMAIN_SUFFIX}",
                "created_at": now,
                "updated_at": now,
            }
        )
        group = load_group(q, group_id)
        audit(q, ctx, "create", "group", group_id, name=group.name, after=group)
        return group


def get_group(ctx: Context, group_id: str) -> Group:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return load_group(q, group_id)


def list_groups(
    ctx: Context, name: str | None, app_id: str | None, offset: int, limit: int
) -> Page[Group]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_groups(name, app_id, offset, limit)
    return Page[Group](total=total, items=items)


def update_group(ctx: Context, group_id: str, patch: GroupUpdate) -> Group:
    ctx.require(Permission.APIS)
    values: GroupChanges = {}
    if patch.name is not None:
        values["name"] = patch.name
    if patch.description is not None:
        values["description"] = patch.description
    with ctx.store.write() as q:
        before = load_group(q, group_id)
        if values:
            q.update_group(group_id, {**values, "updated_at": ctx.now()})
        after = load_group(q, group_id)
        audit(q, ctx, "update", "group", group_id, name=after.name, before=before, after=after)
        return after


def delete_group(ctx: Context, group_id: str) -> None:
    ctx.require(Permission.APIS)
    with ctx.store.write() as q:
        group = load_group(q, group_id)
        count = q.count_apis_of_group(group_id)
        if count:
            raise Conflict(
                f"API group {group.name!r} still holds {count} API(s); delete them first",
                code="GROUP_IN_USE",
            )
        q.delete_group(group_id)
        audit(q, ctx, "delete", "group", group_id, name=group.name, before=group)
