from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import Grant, GrantCreate, GrantItems, Page
from apicron.services import grants

router = APIRouter(prefix="/v1/app-auths", tags=["app-auths (grants)"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createAppAuths",
    summary="Grant an app the right to call APIs",
    **needs(Permission.GRANTS, extra=body_example({"app_id": "0c1f5b8a2d3e4f6a9b7c8d9e0f1a2b3c",
         "api_ids": ["9a8b7c6d5e4f30211203f4e5d6c7b8a9"]})),
)
def create_grants(ctx: Ctx, spec: GrantCreate) -> GrantItems:
    """Grant one app the right to call APP-auth APIs of other apps (all or nothing)."""
    return grants.create_grants(ctx, spec)


@router.get("", operation_id="listAppAuths", summary="List grants", **needs(Permission.READ))
def list_grants(
    ctx: Ctx, app_id: str | None = None, api_id: str | None = None, offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Grant]:
    """Grants, optionally of one app or for one API."""
    return grants.list_grants(ctx, app_id, api_id, offset, limit)


@router.delete("/{grant_id}", status_code=204, operation_id="deleteAppAuth",
               summary="Revoke a grant", **needs(Permission.GRANTS))
def delete_grant(ctx: Ctx, grant_id: str) -> Response:
    """The app can no longer call the API; its tasks that do fail with AUTH at their next
    fire."""
    grants.delete_grant(ctx, grant_id)
    return Response(status_code=204)
