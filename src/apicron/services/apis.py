"""APIs: a draft that can be edited, and the published snapshot the gateway serves."""

from __future__ import annotations

from apicron.domain.errors import Conflict, InvalidInput, NotFound
from apicron.domain.models import Api, ApiCreate, ApiUpdate, Page, PublishedApi
from apicron.domain.rules import route_key
from apicron.domain.validation import validate
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


def create_api(ctx: Context, spec: ApiCreate) -> Api:
    now, api_id = ctx.now(), new_id()
    with ctx.store.write() as q:
        if q.get_group(spec.group_id) is None:
            raise InvalidInput(f"no API group with id {spec.group_id!r}", field="group_id")
        q.insert_api(
            {
                "id": api_id,
                **spec.model_dump(),
                "published_snapshot": None,
                "published_at": None,
                "published_route": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        return load_api(q, api_id)


def get_api(ctx: Context, api_id: str) -> Api:
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
    with ctx.store.read() as q:
        total, items = q.list_apis(
            name=name, group_id=group_id, app_id=app_id, published=published,
            offset=offset, limit=limit,
        )
    return Page[Api](total=total, items=items)


def update_api(ctx: Context, api_id: str, patch: ApiUpdate) -> Api:
    """Edits change the draft only; the gateway keeps serving the snapshot until a publish."""
    with ctx.store.write() as q:
        current = load_api(q, api_id)
        merged = {f: getattr(current, f) for f in _DRAFT_FIELDS}
        merged.update(patch.model_dump(exclude_none=True))
        spec = validate(ApiCreate, merged)
        q.update_api(api_id, {**spec.model_dump(exclude={"group_id"}), "updated_at": ctx.now()})
        return load_api(q, api_id)


def publish_api(ctx: Context, api_id: str) -> Api:
    with ctx.changing() as q:
        api = load_api(q, api_id)
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
            published_at=ctx.now(),
        )
        q.publish_api(api_id, snapshot, route_key(api.method, api.path))
        return load_api(q, api_id)


def unpublish_api(ctx: Context, api_id: str) -> Api:
    with ctx.changing() as q:
        load_api(q, api_id)
        q.unpublish_api(api_id, ctx.now())
        return load_api(q, api_id)


def delete_api(ctx: Context, api_id: str) -> None:
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


def list_published(ctx: Context) -> list[PublishedApi]:
    """Every published snapshot (what tasks call and the gateway serves), by id."""
    with ctx.store.read() as q:
        return [api for api, _ in q.list_published_apis_with_domain()]
