"""Batches execution progress so thousands of calls a second cost a few transactions.

Dispatch coroutines add attempts and status changes here (event-loop thread only); the
engine takes the batch and writes it in one transaction (:mod:`apicron.engine.recorder`).
Until it is written, the engine still knows the outcome in memory, and an unwritten
RUNNING execution is recovered (and retried under the same id) after a crash, never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from apicron.store.records import AttemptRecord, ExecutionChange


@dataclass
class ResultBatch:
    attempts: list[AttemptRecord] = field(default_factory=list)
    changes: list[ExecutionChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.attempts or self.changes)

    def execution_ids(self) -> set[str]:
        return {a.execution_id for a in self.attempts} | {c.execution_id for c in self.changes}

    def only(self, execution_ids: set[str]) -> ResultBatch:
        """The part of this batch about ``execution_ids``, in the same order."""
        return ResultBatch(
            attempts=[a for a in self.attempts if a.execution_id in execution_ids],
            changes=[c for c in self.changes if c.execution_id in execution_ids],
        )


class ResultWriter:
    def __init__(self) -> None:
        self._batch = ResultBatch()
        self.on_add: Callable[[], None] = lambda: None
        """Called after each addition; the engine sets it to schedule a write."""

    def attempt(self, record: AttemptRecord) -> None:
        self._batch.attempts.append(record)
        self.on_add()

    def change(self, change: ExecutionChange) -> None:
        self._batch.changes.append(change)
        self.on_add()

    def take(self) -> ResultBatch:
        batch, self._batch = self._batch, ResultBatch()
        return batch

    def restore(self, batch: ResultBatch) -> None:
        """Put back a batch that could not be written, ahead of what came since (an
        execution's changes must be applied in the order they were made)."""
        self._batch = ResultBatch(
            attempts=batch.attempts + self._batch.attempts,
            changes=batch.changes + self._batch.changes,
        )

    def __len__(self) -> int:
        return len(self._batch.attempts) + len(self._batch.changes)
