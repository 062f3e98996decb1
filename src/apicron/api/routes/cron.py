from __future__ import annotations

from fastapi import APIRouter

from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Preview, PreviewRequest
from apicron.services.preview import preview

router = APIRouter(prefix="/v1/cron", tags=["cron"], responses=ERRORS)


@router.post("/preview", **needs(Permission.READ))
def cron_preview(ctx: Ctx, request: PreviewRequest) -> Preview:
    """Explains a trigger in words and lists its next fire times (≥ effective_time)."""
    return preview(ctx, request)
