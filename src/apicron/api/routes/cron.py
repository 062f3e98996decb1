from __future__ import annotations

from fastapi import APIRouter

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Preview, PreviewRequest
from apicron.services.preview import preview

router = APIRouter(prefix="/v1/cron", tags=["cron"], responses=ERRORS)


@router.post(
    "/preview", operation_id="previewCron", summary="Explain a trigger and list fire times",
    **needs(Permission.READ, extra=body_example(
        {"trigger_type": "CRON", "cron_expression": "0 0 12 ? * 6#3",
         "timezone": "Europe/Berlin", "count": 3})),
)
def cron_preview(ctx: Ctx, request: PreviewRequest) -> Preview:
    """Explains a trigger (CRON, CALENDAR or AT) in words and lists its next fire times, at or
    after max(now, effective_time), marking those a DST change moved."""
    return preview(ctx, request)
