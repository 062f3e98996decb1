"""Taking work from the queue: manual runs, handed-back work and orphans of a dead engine.

The executions table is the queue. Unclaimed unfinished executions (a manual run, work a
stopping node handed back) and those whose lease expired (their engine died) are claimed
by this node and decided here: a PENDING one is held until its time (the fence applies
the misfire rule if it is late), a RUNNING one was interrupted mid-attempt: it is
recorded INTERRUPTED and retried within its task's retries, or failed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import ValidationError

from apicron.domain.models import StoredTask
from apicron.engine import metrics
from apicron.engine.database import EngineDatabase
from apicron.engine.dispatch import PlannedExecution
from apicron.engine.firing import Firing
from apicron.engine.results import ResultWriter
from apicron.engine.settings import EngineSettings
from apicron.logs import execution_ids
from apicron.store.records import (
    AttemptRecord,
    ExecutionOutcome,
    ExecutionProgress,
    QueuedExecution,
)
from apicron.store.store import Queries

log = logging.getLogger("apicron.engine")

_UNREADABLE = "its task's stored configuration cannot be read"


class Takeover:
    def __init__(
        self, db: EngineDatabase, firing: Firing, writer: ResultWriter, settings: EngineSettings
    ):
        self._db = db
        self._firing = firing
        self._writer = writer
        self._s = settings

    async def take_queued(self, now: datetime, *, all_foreign: bool, foreign: bool) -> None:
        """Claim what the queue holds for anyone and decide each one.

        ``all_foreign``: also what other nodes hold (a single-node instance starting: no
        other engine can be alive). ``foreign``: other nodes' expired leases too (False
        just after a database outage, while they may not have renewed them yet).
        """
        s = self._s

        def take(q: Queries) -> list[tuple[QueuedExecution, StoredTask | None]]:
            rows = q.claim_queued(s.node_id, now, now + s.lease, s.batch_size,
                                  all_foreign=all_foreign, foreign=foreign)
            taken: list[tuple[QueuedExecution, StoredTask | None]] = []
            for row in rows:
                if self._firing.holds(row.id):
                    continue
                try:
                    taken.append((row, q.get_task(row.task_id)))
                except ValidationError:
                    # One bad task row costs its executions, not the queue.
                    log.error("execution %s failed: %s (task %s)", row.id, _UNREADABLE,
                              row.task_id, extra=execution_ids(row.task_id, row.id))
                    q.update_executions([ExecutionOutcome(
                        row.id, "FAILED", row.attempts, now, "CONFIG", _UNREADABLE)])
            return taken

        # In time order (RETURNING gives no order): a SEQUENTIAL backfill's first adopted
        # execution is released at once, so it must be the earliest.
        taken = sorted(await self._db.write(take), key=lambda pair: pair[0].scheduled_at)
        for row, task in taken:
            if task is not None:
                self._adopt(row, task, now)

    def _adopt(self, row: QueuedExecution, task: StoredTask, now: datetime) -> None:
        """Decide what an execution taken from the queue becomes."""
        if row.status == "PENDING":
            # Held until its time; if that is long past, the fence applies the misfire
            # policy (RUN_ONCE: it runs late unless a later occurrence supersedes it).
            self._firing.schedule(PlannedExecution(row.id, task, row.scheduled_at, row.trigger,
                                                   note=row.note, planned_at=row.planned_at,
                                                   sequence_id=row.sequence_id,
                                                   adopted=row.trigger == "SCHEDULE"))
            return
        # RUNNING: its engine died during an attempt whose outcome nobody recorded.
        number = row.attempts + 1
        message = ("apicron stopped during this attempt; whether the call reached the "
                   "backend is unknown")
        self._writer.attempt(AttemptRecord(
            execution_id=row.id, number=number, started_at=row.started_at or now,
            finished_at=now, duration_ms=0, http_status=None, error_kind="INTERRUPTED",
            error_msg=message, response_excerpt=None,
        ))
        if number <= task.max_retries:
            self._writer.change(ExecutionProgress(row.id, number, "INTERRUPTED", message))
            log.info("resuming execution %s of task %s (attempt %d)", row.id, task.name,
                     number + 1, extra=execution_ids(task.id, row.id))
            self._firing.schedule(PlannedExecution(
                row.id, task, row.scheduled_at, row.trigger, first_attempt=number + 1,
                note=row.note, planned_at=row.planned_at, sequence_id=row.sequence_id,
            ))
        else:
            self._writer.change(ExecutionOutcome(
                row.id, "FAILED", number, now, "INTERRUPTED",
                "apicron stopped during the last allowed attempt",
            ))
            metrics.FAILURES.labels("INTERRUPTED").inc()
