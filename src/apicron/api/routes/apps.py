from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import App, AppCreate, AppUpdate, AppWithSecret, Page
from apicron.services import apps

router = APIRouter(prefix="/v1/apps", tags=["integration apps"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createApp", summary="Create an integration app",
    **needs(Permission.APPS, extra=body_example(
        {"name": "billing", "description": "Billing jobs"})),
)
def create_app(ctx: Ctx, spec: AppCreate) -> AppWithSecret:
    """Generates the app's key and secret; the secret is shown only in this answer and
    on reset (it is stored encrypted)."""
    return apps.create_app(ctx, spec)


@router.get("", operation_id="listApps", summary="List integration apps", **needs(Permission.READ))
def list_apps(
    ctx: Ctx, name: NameFilter = None, offset: Offset = 0, limit: Limit = 20
) -> Page[App]:
    """Apps by name, without their secrets."""
    return apps.list_apps(ctx, name, offset, limit)


@router.get(
    "/{app_id}", operation_id="getApp", summary="Read an integration app",
    **needs(Permission.READ),
)
def get_app(ctx: Ctx, app_id: str) -> App:
    """The app, without its secret."""
    return apps.get_app(ctx, app_id)


@router.put(
    "/{app_id}", operation_id="updateApp",
    summary="Change an integration app (only the fields given)",
    **needs(Permission.APPS, extra=body_example({"description": "Billing and invoicing jobs"})),
)
def update_app(ctx: Ctx, app_id: str, patch: AppUpdate) -> App:
    """Renames it or changes its description; the fields left out keep their values."""
    return apps.update_app(ctx, app_id, patch)


@router.delete("/{app_id}", status_code=204, operation_id="deleteApp",
               summary="Delete an integration app", **needs(Permission.APPS))
def delete_app(ctx: Ctx, app_id: str) -> Response:
    """Refused (409) while the app owns API groups or scheduled tasks."""
    apps.delete_app(ctx, app_id)
    return Response(status_code=204)


@router.post("/{app_id}/reset-secret", operation_id="resetAppSecret",
             summary="Give an app a new secret", **needs(Permission.APPS))
def reset_secret(ctx: Ctx, app_id: str) -> AppWithSecret:
    """The old secret stops working at once; the new one is shown only in this answer."""
    return apps.reset_secret(ctx, app_id)
