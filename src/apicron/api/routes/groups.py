from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import Group, GroupCreate, GroupUpdate, Page
from apicron.services import groups

router = APIRouter(prefix="/v1/api-groups", tags=["API groups"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createApiGroup", summary="Create an API group",
    **needs(Permission.APIS, extra=body_example(
        {"name": "billing_api", "description": "Billing endpoints",
         "app_id": "0c1f5b8a2d3e4f6a9b7c8d9e0f1a2b3c"})),
)
def create_group(ctx: Ctx, spec: GroupCreate) -> Group:
    """A group of APIs owned by one app; its domain is generated."""
    return groups.create_group(ctx, spec)


@router.get("", operation_id="listApiGroups", summary="List API groups", **needs(Permission.READ))
def list_groups(
    ctx: Ctx, name: NameFilter = None, app_id: str | None = None, offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Group]:
    """Groups by name, optionally of one app."""
    return groups.list_groups(ctx, name, app_id, offset, limit)


@router.get(
    "/{group_id}", operation_id="getApiGroup", summary="Read an API group",
    **needs(Permission.READ),
)
def get_group(ctx: Ctx, group_id: str) -> Group:
    """The group, with its owning app and domain."""
    return groups.get_group(ctx, group_id)


@router.put(
    "/{group_id}", operation_id="updateApiGroup",
    summary="Change an API group (only the fields given)",
    **needs(Permission.APIS, extra=body_example(
        {"description": "Billing and invoicing endpoints"})),
)
def update_group(ctx: Ctx, group_id: str, patch: GroupUpdate) -> Group:
    """Renames it or changes its description; the fields left out keep their values."""
    return groups.update_group(ctx, group_id, patch)


@router.delete("/{group_id}", status_code=204, operation_id="deleteApiGroup",
               summary="Delete an API group", **needs(Permission.APIS))
def delete_group(ctx: Ctx, group_id: str) -> Response:
    """Refused (409) while the group has APIs."""
    groups.delete_group(ctx, group_id)
    return Response(status_code=204)
