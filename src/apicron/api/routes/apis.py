from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import Api, ApiCreate, ApiUpdate, Page
from apicron.services import apis

router = APIRouter(prefix="/v1/apis", tags=["APIs"], responses=ERRORS)


@router.post("", status_code=201, **needs(Permission.APIS))
def create_api(ctx: Ctx, spec: ApiCreate) -> Api:
    return apis.create_api(ctx, spec)


@router.get("", **needs(Permission.READ))
def list_apis(
    ctx: Ctx,
    name: NameFilter = None,
    group_id: str | None = None,
    app_id: str | None = None,
    published: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Api]:
    return apis.list_apis(
        ctx, name=name, group_id=group_id, app_id=app_id, published=published,
        offset=offset, limit=limit,
    )


@router.get("/{api_id}", **needs(Permission.READ))
def get_api(ctx: Ctx, api_id: str) -> Api:
    return apis.get_api(ctx, api_id)


@router.put("/{api_id}", **needs(Permission.APIS))
def update_api(ctx: Ctx, api_id: str, patch: ApiUpdate) -> Api:
    """Edits the draft; the gateway serves the published snapshot until the next publish."""
    return apis.update_api(ctx, api_id, patch)


@router.delete("/{api_id}", status_code=204, **needs(Permission.APIS))
def delete_api(ctx: Ctx, api_id: str) -> Response:
    apis.delete_api(ctx, api_id)
    return Response(status_code=204)


@router.post("/{api_id}/publish", **needs(Permission.APIS))
def publish_api(ctx: Ctx, api_id: str) -> Api:
    return apis.publish_api(ctx, api_id)


@router.post("/{api_id}/unpublish", **needs(Permission.APIS))
def unpublish_api(ctx: Ctx, api_id: str) -> Api:
    return apis.unpublish_api(ctx, api_id)
