from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.metrics import exposition

router = APIRouter(tags=["health"], responses={401: ERRORS[401], 403: ERRORS[403]})


@router.get(
    "/metrics", operation_id="getMetrics", summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    **needs(Permission.READ),
)
def metrics(ctx: Ctx) -> Response:
    """Prometheus metrics of this process: build and process always; engine (fires,
    failures by kind, retries, lateness, queue depth, claim duration, last pass, loop
    errors) where an engine runs; gateway (calls by app, latency) where the gateway
    listens."""
    return Response(exposition(ctx.role), media_type=CONTENT_TYPE_LATEST)
