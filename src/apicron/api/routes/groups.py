from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import Group, GroupCreate, GroupUpdate, Page
from apicron.services import groups

router = APIRouter(prefix="/v1/api-groups", tags=["API groups"], responses=ERRORS)


@router.post("", status_code=201, **needs(Permission.APIS))
def create_group(ctx: Ctx, spec: GroupCreate) -> Group:
    return groups.create_group(ctx, spec)


@router.get("", **needs(Permission.READ))
def list_groups(
    ctx: Ctx, name: NameFilter = None, app_id: str | None = None, offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Group]:
    return groups.list_groups(ctx, name, app_id, offset, limit)


@router.get("/{group_id}", **needs(Permission.READ))
def get_group(ctx: Ctx, group_id: str) -> Group:
    return groups.get_group(ctx, group_id)


@router.put("/{group_id}", **needs(Permission.APIS))
def update_group(ctx: Ctx, group_id: str, patch: GroupUpdate) -> Group:
    return groups.update_group(ctx, group_id, patch)


@router.delete("/{group_id}", status_code=204, **needs(Permission.APIS))
def delete_group(ctx: Ctx, group_id: str) -> Response:
    groups.delete_group(ctx, group_id)
    return Response(status_code=204)
