"""Writing the results the dispatchers produced: one transaction per batch, and one bad
row costs that row only.

A result whose execution is gone (its task was deleted while the call was in flight) has
nowhere to go: the history went with the task, so it is dropped quietly. Any other row
that cannot be written (a value the database refuses, a constraint) would otherwise fail
the whole batch again and again: the batch is then written execution by execution, and an
execution whose result still cannot be written is recorded FAILED with the reason
instead, with one WARNING line naming it. A database outage, or an error about every row
(a missing table), keeps the whole batch for the next try: nothing accepted is lost.

The outcomes this node writes go through the tasks' alert rules in the same transaction
(:func:`apicron.alerts.outbox.record_results`): an alert is written with its result or not
at all.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from apicron.alerts.outbox import Recorded, announce, record_results
from apicron.domain.alert_decisions import AlertFact
from apicron.engine.database import EngineDatabase
from apicron.engine.one_off import end_one_off_tasks
from apicron.engine.results import ResultBatch, ResultWriter
from apicron.logs import execution_ids
from apicron.services.health import describe
from apicron.store.database import is_row_error
from apicron.store.records import ExecutionOutcome
from apicron.store.store import Queries

log = logging.getLogger("apicron.engine")


class ResultRecorder:
    def __init__(self, db: EngineDatabase, writer: ResultWriter, node_id: str):
        self._db = db
        self._writer = writer
        self._node = node_id
        self.writing = 0
        """Batches taken from the writer and not yet written (tests wait on it)."""

    async def flush(self, now: datetime) -> None:
        """Write everything the writer holds. Raises for a database outage or an error
        that is about every row (the batch is then back in the writer); a row-level error
        costs that execution only."""
        batch = self._writer.take()
        if not batch:
            return
        self.writing += 1
        try:
            await self._flush(batch, now)
        finally:
            self.writing -= 1

    async def _flush(self, batch: ResultBatch, now: datetime) -> None:
        try:
            announce(await self._db.write(lambda q: self._write(q, batch, now)))
        except Exception as exc:
            if not is_row_error(exc):
                self._writer.restore(batch)  # not written: nothing of it may be lost
                raise
            log.debug("result batch refused (%s); writing it execution by execution",
                      describe(exc))
            left = await self._db.call(lambda: self._write_each(batch, now))
            if left is not None:
                rest, outage = left
                self._writer.restore(rest)
                raise outage from None
        except BaseException:
            self._writer.restore(batch)
            raise

    def _write(self, q: Queries, batch: ResultBatch, now: datetime) -> Recorded:
        live = q.lock_executions(batch.execution_ids())
        gone = batch.execution_ids() - live
        if gone:
            log.debug("dropped the results of %d executions whose task was deleted", len(gone))
            batch = batch.only(live)
        outcomes = [c for c in batch.changes if isinstance(c, ExecutionOutcome)]
        # The outcomes that apply (read under the locks taken above): alerts follow them.
        applied = q.unfinished_held([o.execution_id for o in outcomes], self._node)
        q.insert_attempts([dataclasses.replace(a, node_id=self._node) for a in batch.attempts])
        # Only while this node still holds the execution: if its lease lapsed and another
        # node took it over, that node's outcome is the one recorded.
        q.update_executions(batch.changes, held_by=self._node)
        if outcomes:
            end_one_off_tasks(q, now)
        facts = [
            AlertFact(o.execution_id, applied[o.execution_id], o.status, o.finished_at,
                      o.error_kind, o.error_msg)
            for o in outcomes if o.execution_id in applied
        ]
        if not facts:
            return Recorded()
        return record_results(q, facts, max(f.at for f in facts))

    def _write_each(
        self, batch: ResultBatch, now: datetime
    ) -> tuple[ResultBatch, Exception] | None:
        """Write ``batch`` one execution at a time; on an outage, return what is left to
        write and the error."""
        ids = list(dict.fromkeys(
            [a.execution_id for a in batch.attempts] + [c.execution_id for c in batch.changes]
        ))
        for index, execution_id in enumerate(ids):
            part = batch.only({execution_id})
            try:
                with self._db.store.write() as q:
                    recorded = self._write(q, part, now)
                announce(recorded)
                continue
            except Exception as exc:
                failure = exc
            try:
                if not is_row_error(failure):
                    raise failure
                self._record_unwritable(execution_id, part, failure, now)
            except Exception as systemic:
                # The database went away, or something is wrong with every row: what is
                # left goes back to the writer.
                return batch.only(set(ids[index:])), systemic
        return None

    def _record_unwritable(
        self, execution_id: str, part: ResultBatch, exc: Exception, now: datetime
    ) -> None:
        attempts = max((a.number for a in part.attempts), default=0)
        message = f"apicron could not record this execution's result: {describe(exc)}"
        try:
            with self._db.store.write() as q:
                task = q.unfinished_held([execution_id], self._node).get(execution_id)
                q.update_executions(
                    [ExecutionOutcome(execution_id, "FAILED", attempts, now, "INTERNAL",
                                      message)],
                    held_by=self._node,
                )
                recorded = record_results(q, [] if task is None else [
                    AlertFact(execution_id, task, "FAILED", now, "INTERNAL", message)], now)
            announce(recorded)
        except Exception as again:
            if not is_row_error(again):
                raise
            log.warning("dropped the result of execution %s: it cannot be written (%s)",
                        execution_id, describe(exc), extra=execution_ids(None, execution_id))
            return
        log.warning("recorded execution %s FAILED: its result cannot be written (%s)",
                    execution_id, describe(exc), extra=execution_ids(None, execution_id))
