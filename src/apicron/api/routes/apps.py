from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import App, AppCreate, AppUpdate, AppWithSecret, Page
from apicron.services import apps

router = APIRouter(prefix="/v1/apps", tags=["integration apps"], responses=ERRORS)


@router.post("", status_code=201, **needs(Permission.APPS))
def create_app(ctx: Ctx, spec: AppCreate) -> AppWithSecret:
    """Generates the app's key and secret; the secret is shown only here and on reset."""
    return apps.create_app(ctx, spec)


@router.get("", **needs(Permission.READ))
def list_apps(
    ctx: Ctx, name: NameFilter = None, offset: Offset = 0, limit: Limit = 20
) -> Page[App]:
    return apps.list_apps(ctx, name, offset, limit)


@router.get("/{app_id}", **needs(Permission.READ))
def get_app(ctx: Ctx, app_id: str) -> App:
    return apps.get_app(ctx, app_id)


@router.put("/{app_id}", **needs(Permission.APPS))
def update_app(ctx: Ctx, app_id: str, patch: AppUpdate) -> App:
    return apps.update_app(ctx, app_id, patch)


@router.delete("/{app_id}", status_code=204, **needs(Permission.APPS))
def delete_app(ctx: Ctx, app_id: str) -> Response:
    """Refused (409) while the app owns API groups or scheduled tasks."""
    apps.delete_app(ctx, app_id)
    return Response(status_code=204)


@router.post("/{app_id}/reset-secret", **needs(Permission.APPS))
def reset_secret(ctx: Ctx, app_id: str) -> AppWithSecret:
    return apps.reset_secret(ctx, app_id)
