from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from apicron.api.routes.common import ERRORS
from apicron.gateway.metrics import REGISTRY as GATEWAY_REGISTRY

router = APIRouter(tags=["health"], responses={401: ERRORS[401]})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics() -> Response:
    """Prometheus metrics of this process: engine (fires, failures by kind, retries,
    lateness, queue depth, claim duration), gateway (calls by app, latency) and process."""
    body = generate_latest(REGISTRY) + generate_latest(GATEWAY_REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
