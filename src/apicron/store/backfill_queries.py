"""The queries of backfills and replays (issue 18): what the occurrences of a range
already have, and the original of a replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from apicron.store.tables import executions

_CHUNK = 500


class BackfillQueries:
    connection: Connection

    def occurrence_statuses(
        self, task_id: str, times: Sequence[datetime]
    ) -> dict[datetime, set[str]]:
        """For each of ``times`` that has executions of the task (any trigger but MANUAL,
        whose scheduled time is when it was asked for), the statuses they have."""
        found: dict[datetime, set[str]] = {}
        for start in range(0, len(times), _CHUNK):
            chunk = list(times[start : start + _CHUNK])
            rows = self.connection.execute(
                select(executions.c.scheduled_at, executions.c.status).where(
                    executions.c.task_id == task_id,
                    executions.c.scheduled_at.in_(chunk),
                    executions.c.trigger != "MANUAL",
                )
            )
            for at, status in rows:
                found.setdefault(at, set()).add(status)
        return found
