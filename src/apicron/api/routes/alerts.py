from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.alerting import AlertEvent
from apicron.domain.models import Page
from apicron.domain.vocabulary import AlertEventKind, AlertStatus
from apicron.services import alerts

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=ERRORS)


@router.get(
    "", operation_id="listAlerts", summary="List alert events and their deliveries",
    **needs(Permission.READ),
)
def list_alerts(
    ctx: Ctx,
    task_id: str | None = None,
    status: Annotated[AlertStatus | None, Query()] = None,
    event: Annotated[AlertEventKind | None, Query()] = None,
    channel_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[AlertEvent]:
    """Alert events, newest first: one per event and channel, with its delivery."""
    return alerts.list_alerts(ctx, task_id=task_id, status=status, event=event,
                              channel_id=channel_id, offset=offset, limit=limit)
