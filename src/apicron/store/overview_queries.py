"""Instance-wide tallies for the console's overview: the same rows REST lists, counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from apicron.domain.models import ExecutionSummary, StoredTask
from apicron.store.tables import alert_events, executions, tasks


class OverviewQueries:
    connection: Connection

    def task_status_counts(self) -> dict[str, int]:
        """Tasks per status (statuses without a task are absent)."""
        rows = self.connection.execute(
            select(tasks.c.status, func.count()).group_by(tasks.c.status)
        )
        return {status: int(count) for status, count in rows}

    def execution_status_counts(self, since: datetime) -> dict[str, int]:
        """Executions of every task per status, scheduled at or after ``since`` (the
        window ``GET /v1/tasks/{id}/executions?from=`` applies)."""
        rows = self.connection.execute(
            select(executions.c.status, func.count())
            .where(executions.c.scheduled_at >= since)
            .group_by(executions.c.status)
        )
        return {status: int(count) for status, count in rows}

    def alerts_sent_since(self, since: datetime) -> int:
        """Alert events delivered (SENT) at or after ``since``, however long ago they were
        raised (one held back by a channel that was down counts when it is sent)."""
        return int(self.connection.execute(
            select(func.count()).select_from(alert_events).where(
                alert_events.c.status == "SENT", alert_events.c.sent_at >= since
            )
        ).scalar_one())

    def failing_tasks(self, limit: int) -> list[tuple[str, str, ExecutionSummary]]:
        """Tasks whose latest execution (by scheduled time) FAILED, newest failure first:
        ``(task id, task name, that execution)``, at most ``limit``."""
        ranked = select(
            executions,
            func.row_number().over(
                partition_by=executions.c.task_id,
                order_by=(executions.c.scheduled_at.desc(), executions.c.created_at.desc()),
            ).label("rank"),
        ).subquery()
        rows = self.connection.execute(
            select(ranked, tasks.c.name.label("task_name"))
            .join(tasks, tasks.c.id == ranked.c.task_id)
            .where(ranked.c.rank == 1, ranked.c.status == "FAILED")
            .order_by(ranked.c.scheduled_at.desc(), ranked.c.task_id)
            .limit(limit)
        ).mappings()
        return [
            (r["task_id"], r["task_name"], ExecutionSummary.model_validate(dict(r)))
            for r in rows
        ]

    def started_tasks_due_before(self, until: datetime, limit: int) -> list[StoredTask]:
        """Started tasks whose next fire time is at or before ``until``, soonest first."""
        rows = self.connection.execute(
            select(tasks).where(tasks.c.status == "STARTED", tasks.c.next_fire_time <= until)
            .order_by(tasks.c.next_fire_time, tasks.c.id).limit(limit)
        ).mappings()
        return [StoredTask.model_validate(dict(r)) for r in rows]
