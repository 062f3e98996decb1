"""APIs: a draft that can be edited, and the published snapshot the gateway serves."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

from apicron.domain.access import Permission
from apicron.domain.errors import Conflict, InvalidInput, NotFound
from apicron.domain.models import Api, ApiCreate, ApiUpdate, Page, PublishedApi
from apicron.domain.rules import route_key
from apicron.domain.validation import validate
from apicron.services.audit import audit
from apicron.services.context import Context, new_id
from apicron.store.store import Queries

_DRAFT_FIELDS = (
    "group_id", "name", "description", "method", "path", "auth_type", "backend_url",
    "backend_timeout_ms",
)


def load_api(q: Queries, api_id: str) -> Api:
    api = q.get_api(api_id)
    if api is None:
        raise NotFound(f"no API with id {api_id!r}")
    return api


def _writing(ctx: Context, publish: bool) -> AbstractContextManager[Queries]:
    # A draft is invisible to the gateway; only a publish changes what it serves.
    return ctx.changing() if publish else ctx.store.write()


def create_api(ctx: Context, spec: ApiCreate) -> Api:
    """Create a draft, and publish it in the same transaction when ``spec.publish``.

    Raises InvalidInput (unknown group), Conflict (name taken in the group; route taken,
    naming the API that serves it): either way nothing is stored.
    """
    ctx.require(Permission.APIS)
    now, api_id = ctx.now(), new_id()
    with _writing(ctx, spec.publish) as q:
        if q.get_group(spec.group_id) is None:
            raise InvalidInput(f"no API group with id {spec.group_id!r}", field="group_id")
        q.insert_api(
            {
                "id": api_id,
                "group_id": spec.group_id,
                "name": spec.name,
                "description": spec.description,
                "method": spec.method,
                "path": spec.path,
                "auth_type": spec.auth_type,
                "backend_url": spec.backend_url,
                "backend_timeout_ms": spec.backend_timeout_ms,
                "published_snapshot": None,
                "published_at": None,
                "published_route": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        if spec.publish:
            _publish(q, load_api(q, api_id), now)
        api = load_api(q, api_id)
        audit(q, ctx, "create", "api", api_id, name=api.name, after=api)
        return api


def get_api(ctx: Context, api_id: str) -> Api:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return load_api(q, api_id)


def list_apis(
    ctx: Context,
    *,
    name: str | None,
    group_id: str | None,
    app_id: str | None,
    published: bool | None,
    offset: int,
    limit: int,
) -> Page[Api]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_apis(
            name=name, group_id=group_id, app_id=app_id, published=published,
            offset=offset, limit=limit,
        )
    return Page[Api](total=total, items=items)


def update_api(ctx: Context, api_id: str, patch: ApiUpdate) -> Api:
    """Edits change the draft only; the gateway keeps serving the snapshot until a publish.

    With ``patch.publish`` the edit is published in the same transaction, or neither
    happens (Conflict naming the API that serves the route).
    """
    ctx.require(Permission.APIS)
    with _writing(ctx, patch.publish) as q:
        current = load_api(q, api_id)
        merged = {f: getattr(current, f) for f in _DRAFT_FIELDS}
        merged.update(patch.model_dump(exclude_none=True, exclude={"publish"}))
        spec = validate(ApiCreate, merged)
        now = ctx.now()
        q.update_api(api_id, {
            "name": spec.name, "description": spec.description, "method": spec.method,
            "path": spec.path, "auth_type": spec.auth_type, "backend_url": spec.backend_url,
            "backend_timeout_ms": spec.backend_timeout_ms, "updated_at": now,
        })
        if patch.publish:
            _publish(q, load_api(q, api_id), now)
        after = load_api(q, api_id)
        audit(q, ctx, "update", "api", api_id, name=after.name, before=current, after=after)
        return after


def publish_api(ctx: Context, api_id: str) -> Api:
    """Serve the current draft (Conflict naming the API that already serves its route)."""
    ctx.require(Permission.APIS)
    with ctx.changing() as q:
        before = load_api(q, api_id)
        _publish(q, before, ctx.now())
        after = load_api(q, api_id)
        audit(q, ctx, "publish", "api", api_id, name=after.name, before=before, after=after)
        return after


def _publish(q: Queries, api: Api, now: datetime) -> None:
    route = route_key(api.method, api.path)
    holder = q.find_api_serving(route)
    if holder is not None and holder.id != api.id:
        raise Conflict(
            f"API {holder.name!r} ({holder.id}) already serves {holder.method} {holder.path}; "
            "unpublish it or choose another method or path",
            field="path",
            code="ROUTE_TAKEN",
        )
    snapshot = PublishedApi(
        id=api.id,
        group_id=api.group_id,
        app_id=api.app_id,
        name=api.name,
        method=api.method,
        path=api.path,
        auth_type=api.auth_type,
        backend_url=api.backend_url,
        backend_timeout_ms=api.backend_timeout_ms,
        published_at=now,
    )
    q.publish_api(api.id, snapshot, route)


def unpublish_api(ctx: Context, api_id: str) -> Api:
    ctx.require(Permission.APIS)
    with ctx.changing() as q:
        before = load_api(q, api_id)
        q.unpublish_api(api_id, ctx.now())
        after = load_api(q, api_id)
        if before.published:
            audit(q, ctx, "unpublish", "api", api_id, name=after.name, before=before,
                  after=after)
        return after


def delete_api(ctx: Context, api_id: str) -> None:
    ctx.require(Permission.APIS)
    with ctx.changing() as q:
        api = load_api(q, api_id)
        if api.published:
            raise Conflict(
                f"API {api.name!r} is published; unpublish it first", code="API_PUBLISHED"
            )
        count = q.count_tasks_of_api(api_id)
        if count:
            raise Conflict(
                f"API {api.name!r} is called by {count} scheduled task(s); delete them first",
                code="API_IN_USE",
            )
        q.delete_api(api_id)
        audit(q, ctx, "delete", "api", api_id, name=api.name, before=api)


def list_published(ctx: Context) -> list[PublishedApi]:
    """Every published snapshot (what tasks call and the gateway serves), by id."""
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return [api for api, _ in q.list_published_apis_with_domain()]
