from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import Grant, GrantCreate, GrantItems, Page
from apicron.services import grants

router = APIRouter(prefix="/v1/app-auths", tags=["app-auths (grants)"], responses=ERRORS)


@router.post("", status_code=201, **needs(Permission.GRANTS))
def create_grants(ctx: Ctx, spec: GrantCreate) -> GrantItems:
    """Grant one app the right to call APP-auth APIs of other apps (all or nothing)."""
    return grants.create_grants(ctx, spec)


@router.get("", **needs(Permission.READ))
def list_grants(
    ctx: Ctx, app_id: str | None = None, api_id: str | None = None, offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Grant]:
    return grants.list_grants(ctx, app_id, api_id, offset, limit)


@router.delete("/{grant_id}", status_code=204, **needs(Permission.GRANTS))
def delete_grant(ctx: Ctx, grant_id: str) -> Response:
    grants.delete_grant(ctx, grant_id)
    return Response(status_code=204)
