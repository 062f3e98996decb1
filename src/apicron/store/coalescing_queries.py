"""What the store knows of a task's later occurrences, for coalescing (the fence asks).

Of occurrences of one task found due together only the latest runs
(:mod:`apicron.engine.coalescing`). The fence holds only what this node planned or
adopted; a later occurrence may be written down (by this node's planner or another node)
or not planned yet (the task's next fire time has come). This reads both, in the fence's
transaction, one statement each per chunk of tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from apicron.store.tables import executions, tasks

# The states of an occurrence that ran or will run: one recorded MISSED or SKIPPED (by a
# calendar, say) supersedes nothing.
_RUNS = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class LaterOccurrences:
    """Per task: ``recorded``, the latest scheduled occurrence written down that ran or
    will run and whose (planned) time has come; ``next_fire``, the task's next fire time
    when it is STARTED and that time has come (None otherwise)."""

    recorded: datetime | None = None
    next_fire: datetime | None = None


class CoalescingQueries:
    connection: Connection

    def later_occurrences(
        self, task_ids: Sequence[str], now: datetime
    ) -> dict[str, LaterOccurrences]:
        """For each of ``task_ids``, its occurrences due by ``now`` (see
        :class:`LaterOccurrences`); tasks with neither are left out."""
        ids = sorted(set(task_ids))
        recorded: dict[str, datetime] = {}
        next_fire: dict[str, datetime] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            due_at = func.coalesce(executions.c.planned_at, executions.c.scheduled_at)
            recorded.update(
                (task_id, at) for task_id, at in self.connection.execute(
                    select(executions.c.task_id, func.max(executions.c.scheduled_at))
                    .where(executions.c.task_id.in_(chunk),
                           executions.c.trigger == "SCHEDULE",
                           executions.c.status.in_(_RUNS),
                           due_at <= now)
                    .group_by(executions.c.task_id)
                )
            )
            next_fire.update(
                (task_id, at) for task_id, at in self.connection.execute(
                    select(tasks.c.id, tasks.c.next_fire_time)
                    .where(tasks.c.id.in_(chunk), tasks.c.status == "STARTED",
                           tasks.c.next_fire_time <= now)
                )
            )
        return {task_id: LaterOccurrences(recorded.get(task_id), next_fire.get(task_id))
                for task_id in ids if task_id in recorded or task_id in next_fire}
