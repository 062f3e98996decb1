"""Overlap policies BUFFER_ONE and CANCEL_PREVIOUS (issue 18), beside SKIP and ALLOW.

When an occurrence of a task is due while an execution of it still runs:

- SKIP: it is recorded SKIPPED (the default; apicron.engine.firing).
- ALLOW: it runs at once, beside the previous one.
- BUFFER_ONE: it waits, still PENDING under this node's lease, and runs right after the
  running execution finishes; while one waits, any further occurrence is recorded SKIPPED
  saying one is already waiting. Temporal's ``ScheduleOverlapPolicy.BUFFER_ONE`` does the
  same: "if one is already buffered, then only the first one will be started after the
  running workflow finishes".
- CANCEL_PREVIOUS: the running execution is cancelled — its attempt in progress is recorded
  with ``error_kind`` CANCELLED and the execution ends FAILED saying which occurrence
  replaced it — and the new one runs at once. Kubernetes' ``concurrencyPolicy: Replace``
  and Temporal's ``TERMINATE_OTHER`` ("terminate it and start the new one immediately") are
  the peers; Temporal's ``CANCEL_OTHER`` waits for the cancel to complete, which for an
  HTTP call in this process is immediate anyway. Only executions running on *this* node can
  be cancelled; one running on another node is left to finish, and the new occurrence runs
  beside it (its note says so), never silently dropped.

:class:`Buffer` keeps the waiting occurrences; the fence in apicron.engine.firing asks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from apicron.engine.dispatch import PlannedExecution

BUFFERED_NOTE = ("waited for the previous execution to finish, then ran "
                 "(overlap policy BUFFER_ONE)")
ALREADY_BUFFERED = ("previous execution not finished and one occurrence already waiting "
                    "for it (overlap policy BUFFER_ONE)")
REMOTE_PREVIOUS_NOTE = ("the previous execution runs on another node and could not be "
                        "cancelled from here; this one ran beside it "
                        "(overlap policy CANCEL_PREVIOUS)")
# How often an occurrence waiting for another node's execution looks again: this node hears
# nothing when that one finishes.
RECHECK = timedelta(seconds=1)
# Another node's execution is seen as RUNNING until that node writes its result, which it
# does in batches shortly after the call ends: a few hundred ms under load (the bench's
# scale-out run, 2026-12-01: 37 occurrences SKIPPED 190-240 ms after the previous call had
# ended on the other node). So under overlap policy SKIP an occurrence whose previous
# execution runs on another node looks again every REMOTE_LOOK, up to REMOTE_SETTLE after
# its time, before it is SKIPPED; one node alone knows its own calls and never waits.
REMOTE_LOOK = timedelta(milliseconds=250)
REMOTE_SETTLE = timedelta(seconds=1)
REMOTE_WAITED_NOTE = ("waited for the previous execution, on another node, to be recorded "
                      "finished, then ran (overlap policy SKIP)")


class Buffer:
    """At most one waiting occurrence per task, with when to look again: under BUFFER_ONE
    one waits for the running execution; under SKIP one looks again, briefly, at another
    node's execution (``REMOTE_SETTLE``)."""

    def __init__(self) -> None:
        self._waiting: dict[str, PlannedExecution] = {}
        self._recheck: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def holds(self, task_id: str) -> bool:
        return task_id in self._waiting

    def hold(self, item: PlannedExecution, recheck_at: datetime | None) -> None:
        """Keep ``item`` waiting; ``recheck_at``: when to try again (the previous one runs
        on another node), None: when this node's execution finishes."""
        self._waiting[item.task.id] = replace(item, buffered=True)
        if recheck_at is None:
            self._recheck.pop(item.task.id, None)
        else:
            self._recheck[item.task.id] = recheck_at

    def release(self, task_id: str) -> PlannedExecution | None:
        """The occurrence waiting for ``task_id``'s execution, now free to run."""
        self._recheck.pop(task_id, None)
        return self._waiting.pop(task_id, None)

    def due_rechecks(self, now: datetime) -> Iterator[PlannedExecution]:
        """Occurrences waiting for another node's execution whose time to look again came."""
        for task_id in [t for t, at in self._recheck.items() if at <= now]:
            item = self.release(task_id)
            if item is not None:
                yield item

    @property
    def next_recheck(self) -> datetime | None:
        return min(self._recheck.values(), default=None)

    def ids(self) -> list[str]:
        return [item.id for item in self._waiting.values()]
