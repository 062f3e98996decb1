from __future__ import annotations

from fastapi import APIRouter, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, NameFilter, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.models import Api, ApiCreate, ApiUpdate, Page
from apicron.services import apis

router = APIRouter(prefix="/v1/apis", tags=["APIs"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createApi", summary="Create an API",
    **needs(Permission.APIS, extra=body_example({
        "group_id": "5d6e7f8091a2b3c4d5e6f708192a3b4c", "name": "sync_invoices",
        "description": "Pull the day's invoices", "method": "POST",
        "path": "/billing/sync/{region}", "auth_type": "APP",
        "backend_url": "https://billing.example.com/sync/{region}",
        "backend_timeout_ms": 10000, "publish": True,
    })),
)
def create_api(ctx: Ctx, spec: ApiCreate) -> Api:
    """A route of the gateway to a backend, in a group. The gateway serves it once
    published (``publish: true`` publishes it in the same transaction)."""
    return apis.create_api(ctx, spec)


@router.get("", operation_id="listApis", summary="List APIs", **needs(Permission.READ))
def list_apis(
    ctx: Ctx,
    name: NameFilter = None,
    group_id: str | None = None,
    app_id: str | None = None,
    published: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Api]:
    """APIs by name, optionally of one group or app, published or not."""
    return apis.list_apis(
        ctx, name=name, group_id=group_id, app_id=app_id, published=published,
        offset=offset, limit=limit,
    )


@router.get("/{api_id}", operation_id="getApi", summary="Read an API", **needs(Permission.READ))
def get_api(ctx: Ctx, api_id: str) -> Api:
    """The API's draft, and whether and when it was published."""
    return apis.get_api(ctx, api_id)


@router.put(
    "/{api_id}", operation_id="updateApi", summary="Change an API (only the fields given)",
    **needs(Permission.APIS, extra=body_example({"backend_timeout_ms": 15000, "publish": True})),
)
def update_api(ctx: Ctx, api_id: str, patch: ApiUpdate) -> Api:
    """Edits the draft (the fields left out keep their values); the gateway serves the
    published snapshot until the next publish (``publish: true`` does it at once)."""
    return apis.update_api(ctx, api_id, patch)


@router.delete("/{api_id}", status_code=204, operation_id="deleteApi",
               summary="Delete an API", **needs(Permission.APIS))
def delete_api(ctx: Ctx, api_id: str) -> Response:
    """Refused (409) while it is published (unpublish it first) or a task calls it."""
    apis.delete_api(ctx, api_id)
    return Response(status_code=204)


@router.post(
    "/{api_id}/publish", operation_id="publishApi", summary="Publish an API",
    **needs(Permission.APIS),
)
def publish_api(ctx: Ctx, api_id: str) -> Api:
    """The gateway serves the draft as it is now; 409 ROUTE_TAKEN if another published
    API serves that method and path."""
    return apis.publish_api(ctx, api_id)


@router.post("/{api_id}/unpublish", operation_id="unpublishApi",
             summary="Unpublish an API", **needs(Permission.APIS))
def unpublish_api(ctx: Ctx, api_id: str) -> Api:
    """The gateway stops serving it (404); tasks calling it fail with AUTH."""
    return apis.unpublish_api(ctx, api_id)
