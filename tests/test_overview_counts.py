"""The overview's counts over the last 24 h, against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from apicron.server import open_store
from apicron.services.context import Context
from apicron.services.overview import overview
from apicron.settings import load_settings
from apicron.store.records import NewAlertEvent
from apicron.store.tables import alert_events
from tests.servers import SECRET_KEY


@pytest.fixture
def ctx(tmp_path: Path, database_url: str | None) -> Iterator[Context]:
    env = {"APICRON_DATA_DIR": str(tmp_path)}
    if database_url:
        env |= {"APICRON_DATABASE_URL": database_url, "APICRON_SECRET_KEY": SECRET_KEY}
    context = open_store(load_settings(env))
    yield context
    context.store.close()


def _alert(ctx: Context, created: datetime, sent: datetime | None) -> None:
    event_id = f"evt{created.timestamp():.0f}{sent.timestamp() if sent else 0:.0f}"
    with ctx.store.write() as q:
        q.insert_alert_events([NewAlertEvent(
            id=event_id, task_id="t1", task_name="nightly", channel_id="c1",
            channel_kind="webhook", event="FAILURE", execution_id=None,
            message="nightly failed", payload={}, created_at=created,
        )])
        if sent is not None:
            q.connection.execute(update(alert_events).where(alert_events.c.id == event_id)
                                 .values(status="SENT", sent_at=sent))


def test_alerts_sent_count_by_when_they_were_sent_not_when_they_were_raised(
    ctx: Context,
) -> None:
    """An alert raised 30 h ago while its channel was down and delivered an hour ago was
    sent in the last 24 h (it used to count by when it was raised, and was left out)."""
    now = datetime.now(UTC)
    _alert(ctx, now - timedelta(hours=30), now - timedelta(hours=1))  # counted
    _alert(ctx, now - timedelta(hours=2), now - timedelta(minutes=90))  # counted
    _alert(ctx, now - timedelta(hours=30), now - timedelta(hours=26))  # sent before
    _alert(ctx, now - timedelta(hours=1), None)  # not sent yet
    assert overview(ctx).alerts_sent_24h == 2
