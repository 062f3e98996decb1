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
    after max(now, effective_time), marking those a DST change moved. With
    ``calendar_ids`` (and ``calendar_policy``, default SKIP) the fire times are the task's
    with those business calendars applied, and ``calendar_changes`` says, for each
    occurrence on the way a calendar removed or moved, which entry did it
    ("2027-12-25 skipped: Christmas Day (DE)")."""
    return preview(ctx, request)
