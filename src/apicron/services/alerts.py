"""Alert history (issue 14): the outbox rows, delivered or not (``GET /v1/alerts``)."""

from __future__ import annotations

from apicron.domain.alerting import AlertEvent
from apicron.domain.models import Page
from apicron.services.context import Context


def list_alerts(
    ctx: Context, *, task_id: str | None, status: str | None, event: str | None,
    channel_id: str | None, offset: int, limit: int,
) -> Page[AlertEvent]:
    """Newest first."""
    with ctx.store.read() as q:
        total, items = q.list_alert_events(task_id=task_id, status=status, event=event,
                                           channel_id=channel_id, offset=offset, limit=limit)
    return Page[AlertEvent](total=total, items=items)
