"""Grants (app-auths): let an app call an APP-auth API that another app owns."""

from __future__ import annotations

from apicron.domain.access import Permission
from apicron.domain.errors import InvalidInput, NotFound
from apicron.domain.models import Grant, GrantCreate, GrantItems, Page
from apicron.domain.problem_list import Problems
from apicron.services.audit import audit
from apicron.services.context import Context, new_id


def create_grants(ctx: Context, spec: GrantCreate) -> GrantItems:
    """All or nothing; granting what the app already holds answers the existing grant
    (and is no change: not audited)."""
    ctx.require(Permission.GRANTS)
    now = ctx.now()
    granted: list[Grant] = []
    with ctx.changing() as q:
        app = q.get_app(spec.app_id)
        if app is None:
            raise InvalidInput(f"no integration app with id {spec.app_id!r}", field="app_id")
        # Every bad id is named at once; any problem rolls the whole request back.
        problems = Problems()
        for i, api_id in enumerate(spec.api_ids):
            api = q.get_api(api_id)
            field = f"api_ids[{i}]"
            if api is None:
                problems.add(field, f"no API with id {api_id!r}")
                continue
            if api.auth_type != "APP":
                problems.add(field, f"API {api.name!r} uses NONE authentication; only "
                                    "APP-auth APIs are granted")
                continue
            if api.app_id == app.id:
                problems.add(field, f"app {app.name!r} owns API {api.name!r} already "
                                    "(through its group)")
                continue
            if problems.found:
                continue  # nothing will be stored: no need to look further than the checks
            existing = q.find_grant(app.id, api_id)
            if existing is None:
                grant_id = new_id()
                q.insert_grant(
                    {"id": grant_id, "app_id": app.id, "api_id": api_id, "created_at": now}
                )
                existing = q.get_grant(grant_id)
                assert existing is not None
                audit(q, ctx, "grant", "grant", grant_id, name=f"{app.name} → {api.name}",
                      after=existing)
            assert existing is not None
            granted.append(existing)
        problems.raise_any()
    return GrantItems(items=granted)


def list_grants(
    ctx: Context, app_id: str | None, api_id: str | None, offset: int, limit: int
) -> Page[Grant]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_grants(app_id, api_id, offset, limit)
    return Page[Grant](total=total, items=items)


def delete_grant(ctx: Context, grant_id: str) -> None:
    ctx.require(Permission.GRANTS)
    with ctx.changing() as q:
        grant = q.get_grant(grant_id)
        if grant is None:
            raise NotFound(f"no app-auth with id {grant_id!r}")
        q.delete_grant(grant_id)
        app, api = q.get_app(grant.app_id), q.get_api(grant.api_id)
        name = f"{app.name if app else grant.app_id} → {api.name if api else grant.api_id}"
        audit(q, ctx, "revoke", "grant", grant_id, name=name, before=grant)
