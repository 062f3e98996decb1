"""One-off tasks ending (issue 18): STARTED → COMPLETED, or deleted with their history kept.

A one-off (AT) task whose occurrence is planned stays STARTED with no next fire time; once
no execution of it is unfinished, its run is over. This sweep is one conditional
``UPDATE … RETURNING`` (no lock held across anything), run in the transactions that write
the run's end (the planner's, the fence's, the result writer's) and by maintenance, so
however the run ended (succeeded, failed, missed, skipped, or found after a restart) the
task ends in the store, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.engine import Connection

from apicron.store.tables import executions, tasks

_UNFINISHED = ("PENDING", "RUNNING")


@dataclass(frozen=True, slots=True)
class EndedOneOff:
    """A one-off task whose run is over: COMPLETED, or ``deleted`` (after_completion
    DELETE; its executions stay until pruned)."""

    id: str
    name: str
    deleted: bool


class OneOffQueries:
    connection: Connection

    def end_one_off_tasks(self, now: datetime) -> list[EndedOneOff]:
        """End every one-off task whose planned run has finished; returns them."""
        unfinished = exists().where(
            executions.c.task_id == tasks.c.id, executions.c.status.in_(_UNFINISHED)
        )
        rows = self.connection.execute(
            update(tasks)
            .where(
                and_(
                    tasks.c.status == "STARTED",
                    tasks.c.next_fire_time.is_(None),
                    tasks.c.trigger_type == "AT",
                    ~unfinished,
                )
            )
            .values(status="COMPLETED", updated_at=now, claimed_until=None)
            .returning(tasks.c.id, tasks.c.name, tasks.c.after_completion)
        ).all()
        ended = [EndedOneOff(r.id, r.name, r.after_completion == "DELETE") for r in rows]
        doomed = [e.id for e in ended if e.deleted]
        if doomed:
            # The history stays (executions have no foreign key to tasks since 0009).
            self.connection.execute(delete(tasks).where(tasks.c.id.in_(doomed)))
        return ended

    def executions_exist(self, task_id: str) -> bool:
        """Whether any execution of ``task_id`` is kept (a deleted one-off task's history)."""
        return bool(self.connection.execute(
            select(exists().where(executions.c.task_id == task_id))
        ).scalar())
