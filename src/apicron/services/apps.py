"""Integration apps: credentials generated here, the secret encrypted at rest."""

from __future__ import annotations

from apicron.crypto import new_app_key, new_app_secret
from apicron.domain.access import Permission
from apicron.domain.errors import Conflict, NotFound
from apicron.domain.models import App, AppCreate, AppUpdate, AppWithSecret, Page
from apicron.services.audit import REDACTED, audit
from apicron.services.context import Context, new_id
from apicron.store.rows import AppChanges
from apicron.store.store import Queries


def load_app(q: Queries, app_id: str) -> App:
    app = q.get_app(app_id)
    if app is None:
        raise NotFound(f"no integration app with id {app_id!r}")
    return app


def create_app(ctx: Context, spec: AppCreate) -> AppWithSecret:
    # admin: the answer carries the app's secret
    ctx.require(Permission.APPS)
    now, app_id, secret = ctx.now(), new_id(), new_app_secret()
    with ctx.store.write() as q:
        q.insert_app(
            {
                "id": app_id,
                "name": spec.name,
                "description": spec.description,
                "key": new_app_key(),
                "secret_encrypted": ctx.secrets.encrypt(secret),
                "created_at": now,
                "updated_at": now,
            }
        )
        app = load_app(q, app_id)
        audit(q, ctx, "create", "app", app_id, name=app.name,
              after={**app.model_dump(mode="json"), "secret": REDACTED})
    return AppWithSecret(**app.model_dump(), secret=secret)


def get_app(ctx: Context, app_id: str) -> App:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return load_app(q, app_id)


def list_apps(ctx: Context, name: str | None, offset: int, limit: int) -> Page[App]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_apps(name, offset, limit)
    return Page[App](total=total, items=items)


def update_app(ctx: Context, app_id: str, patch: AppUpdate) -> App:
    ctx.require(Permission.APPS)
    values: AppChanges = {}
    if patch.name is not None:
        values["name"] = patch.name
    if patch.description is not None:
        values["description"] = patch.description
    with ctx.changing() as q:
        before = load_app(q, app_id)
        if values:
            q.update_app(app_id, {**values, "updated_at": ctx.now()})
        after = load_app(q, app_id)
        audit(q, ctx, "update", "app", app_id, name=after.name, before=before, after=after)
        return after


def reset_secret(ctx: Context, app_id: str) -> AppWithSecret:
    ctx.require(Permission.APPS)
    secret = new_app_secret()
    with ctx.changing() as q:
        load_app(q, app_id)
        q.update_app(
            app_id, {"secret_encrypted": ctx.secrets.encrypt(secret), "updated_at": ctx.now()}
        )
        app = load_app(q, app_id)
        audit(q, ctx, "reset-secret", "app", app_id, name=app.name,
              changes={"secret": {"before": REDACTED, "after": REDACTED}})
    return AppWithSecret(**app.model_dump(), secret=secret)


def delete_app(ctx: Context, app_id: str) -> None:
    ctx.require(Permission.APPS)
    with ctx.changing() as q:
        app = load_app(q, app_id)
        groups, tasks = q.count_groups_of_app(app_id), q.count_tasks_of_app(app_id)
        if groups or tasks:
            raise Conflict(
                f"integration app {app.name!r} owns {groups} API group(s) and {tasks} "
                "scheduled task(s); delete or move them first",
                code="APP_IN_USE",
            )
        q.delete_app(app_id)
        audit(q, ctx, "delete", "app", app_id, name=app.name, before=app)
