"""Batches execution progress so thousands of calls a second cost a few transactions.

Dispatch coroutines add attempts and status changes here (event-loop thread only); the
engine takes the batch and writes it in one transaction. Until it is written, the engine
still knows the outcome in memory, and an unwritten RUNNING execution is recovered (and
retried under the same id) after a crash, never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ResultBatch:
    attempts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.attempts or self.updates)


class ResultWriter:
    def __init__(self) -> None:
        self._batch = ResultBatch()
        self.on_add: Callable[[], None] = lambda: None
        """Called after each addition; the engine sets it to schedule a write."""

    def attempt(self, row: dict[str, Any]) -> None:
        self._batch.attempts.append(row)
        self.on_add()

    def update(self, execution_id: str, **columns: Any) -> None:
        self._batch.updates.append({"execution_id": execution_id, **columns})
        self.on_add()

    def take(self) -> ResultBatch:
        batch, self._batch = self._batch, ResultBatch()
        return batch

    def restore(self, batch: ResultBatch) -> None:
        """Put back a batch that could not be written, ahead of what came since (an
        execution's updates must be applied in the order they were made)."""
        self._batch = ResultBatch(
            attempts=batch.attempts + self._batch.attempts,
            updates=batch.updates + self._batch.updates,
        )

    def __len__(self) -> int:
        return len(self._batch.attempts) + len(self._batch.updates)
