"""Firing: the executions this node holds, the fence at their time, and the launch.

Planned executions wait in a heap until their time. Then a chunk of them is *fenced* in
one small transaction: PENDING → RUNNING (a stop that discarded them wins), the overlap
rule decided (SKIP: recorded SKIPPED while the previous execution still runs), and an
occurrence found past the misfire grace (held through an outage, a freeze, an overload,
or adopted after a restart) decided by its misfire policy: RUN_ONCE runs it late unless a
later occurrence of the task supersedes it, SKIP records it MISSED. Within the grace, of
occurrences of a task due together only the latest runs; the earlier ones are recorded
MISSED saying which one ran instead (apicron.engine.coalescing). What the fence started is
handed to the dispatcher, never more than there are free call slots.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import logging
from collections import Counter as Tally
from collections.abc import Awaitable, Callable
from datetime import datetime

from apicron.alerts.outbox import Recorded, announce, record_results
from apicron.domain.alert_decisions import AlertFact
from apicron.domain.misfire import Circumstances
from apicron.engine import metrics
from apicron.engine.cancellation import OverlapCancel, cancel_message
from apicron.engine.clock import EngineClock
from apicron.engine.coalescing import (
    MIN_INTERVAL,
    coalescible,
    may_coalesce,
    superseded_in_store,
)
from apicron.engine.database import EngineDatabase
from apicron.engine.dispatch import Dispatcher, PlannedExecution
from apicron.engine.one_off import end_one_off_tasks
from apicron.engine.overlap import (
    ALREADY_BUFFERED,
    BUFFERED_NOTE,
    RECHECK,
    REMOTE_LOOK,
    REMOTE_PREVIOUS_NOTE,
    REMOTE_SETTLE,
    REMOTE_WAITED_NOTE,
    Buffer,
)
from apicron.engine.settings import EngineSettings
from apicron.logs import execution_ids
from apicron.services.health import describe
from apicron.store.records import ExecutionOutcome
from apicron.store.store import Queries

log = logging.getLogger("apicron.engine")

SKIPPED_MESSAGE = "previous execution not finished"
# Issue 18: a backfill's executions neither wait for nor hold up the task's other
# executions: the overlap rule is about the schedule, and a PARALLEL backfill asks for
# its occurrences at once (SEQUENTIAL ones are chained by their sequence instead).
OVERLAP_EXEMPT = frozenset({"BACKFILL"})


class Firing:
    def __init__(
        self,
        db: EngineDatabase,
        dispatcher: Dispatcher,
        clock: EngineClock,
        settings: EngineSettings,
        circumstances: Callable[[], Circumstances],
        wake: Callable[[], None] | None = None,
    ):
        self._db = db
        self._dispatcher = dispatcher
        self._clock = clock
        self._s = settings
        self._circumstances = circumstances
        self._planned: list[tuple[datetime, int, PlannedExecution]] = []
        self._sequence = itertools.count()
        self._known: set[str] = set()
        self._running: dict[str, asyncio.Task[str]] = {}
        self._active_tasks: Tally[str] = Tally()
        self._free_slots = settings.max_in_flight  # calls that may still be sent now
        self._slot_freed = asyncio.Event()
        self._stopping = False
        self._quiet_until = 0.0  # loop time until which a batch of calls is still leaving
        # Issue 18: occurrences waiting for their task's running execution (BUFFER_ONE),
        # the executions in flight by id (CANCEL_PREVIOUS cancels a task's), and how to
        # wake the loop when a waiting occurrence is free to run.
        self._buffer = Buffer()
        self._in_flight: dict[str, PlannedExecution] = {}
        self._cancelled: dict[str, str] = {}  # by CANCEL_PREVIOUS, with why
        self._wake = wake
        # Issue 18: SEQUENTIAL backfills. Each sequence's executions wait here, earliest
        # first; one at a time is released to the planned heap, the next when it is done.
        self._sequences: dict[str, list[tuple[datetime, int, PlannedExecution]]] = {}
        self._sequence_busy: set[str] = set()
        self.on_release: Callable[[], None] | None = None
        """Called when a sequence releases its next execution (wakes the engine loop)."""

    # -- what this node holds ----------------------------------------------------------------

    def schedule(self, item: PlannedExecution) -> None:
        """Hold ``item`` until its time (once: an execution already held is ignored)."""
        if item.id in self._known:
            return
        self._known.add(item.id)
        if item.sequence_id is not None:
            waiting = self._sequences.setdefault(item.sequence_id, [])
            heapq.heappush(waiting, (item.fire_at, next(self._sequence), item))
            self._release(item.sequence_id)
            return
        heapq.heappush(self._planned, (item.fire_at, next(self._sequence), item))

    def _release(self, sequence_id: str) -> None:
        """Hand a sequence's earliest waiting execution to the planned heap, unless one of
        it is there or running already."""
        if sequence_id in self._sequence_busy:
            return
        waiting = self._sequences.get(sequence_id)
        if not waiting:
            self._sequences.pop(sequence_id, None)
            return
        item = heapq.heappop(waiting)[2]
        self._sequence_busy.add(sequence_id)
        heapq.heappush(self._planned, (item.fire_at, next(self._sequence), item))
        if self.on_release is not None:
            self.on_release()

    def _left(self, item: PlannedExecution) -> None:
        """``item`` is done with here (finished, skipped, or taken by a stop): its
        sequence, if any, releases its next execution."""
        self._known.discard(item.id)
        if item.sequence_id is not None:
            self._sequence_busy.discard(item.sequence_id)
            self._release(item.sequence_id)

    def holds(self, execution_id: str) -> bool:
        return execution_id in self._known

    def held(self) -> list[str]:
        """Every execution this node holds (planned or in flight): their leases."""
        return list(self._known)

    @property
    def next_due(self) -> datetime | None:
        planned = self._planned[0][0] if self._planned else None
        recheck = self._buffer.next_recheck
        return min((t for t in (planned, recheck) if t is not None), default=None)

    @property
    def depth(self) -> int:
        return (len(self._planned) + len(self._running) + len(self._buffer)
                + sum(len(w) for w in self._sequences.values()))

    @property
    def running(self) -> dict[str, asyncio.Task[str]]:
        return self._running

    def take_due(self, now: datetime) -> list[PlannedExecution]:
        due: list[PlannedExecution] = list(self._buffer.due_rechecks(now))
        while self._planned and self._planned[0][0] <= now:
            due.append(heapq.heappop(self._planned)[2])
        return due

    def sending(self) -> bool:
        """A batch of calls is leaving now: database work waits (it would hold the
        interpreter lock the sends need)."""
        return asyncio.get_running_loop().time() < self._quiet_until

    def quiet_for(self) -> float:
        """Seconds until the batch of calls leaving now has left."""
        return self._quiet_until - asyncio.get_running_loop().time()

    def stop(self) -> None:
        self._stopping = True
        self._slot_freed.set()

    # -- firing ------------------------------------------------------------------------------

    async def fire(
        self, due: list[PlannedExecution], maintain: Callable[[datetime], Awaitable[None]]
    ) -> None:
        """Fence and launch ``due``, a chunk at a time, as call slots allow.

        Fenced and launched a few hundred at a time: with thousands due at once, the first
        calls go out while the next ones are fenced (measured: a burst of 10,000 delivered
        in 3.1 s this way, 3.9 s with one fence for all). Never more than there are free
        call slots: what is RUNNING under this node's lease is on its way.
        """
        fenced = 0
        try:
            while fenced < len(due):
                await self._wait_for_slot(maintain)
                if self._free_slots <= 0:  # stopping: the rest is handed back
                    break
                step = min(self._s.fire_chunk, self._free_slots)
                await self._fence_and_launch(due[fenced : fenced + step], self._clock.now())
                fenced += step
        finally:
            # Not fenced (a fence that did not commit, a stop): nothing of it was
            # launched; keep it for the next pass.
            for item in due[fenced:]:
                heapq.heappush(self._planned, (item.fire_at, next(self._sequence), item))

    async def _wait_for_slot(self, maintain: Callable[[datetime], Awaitable[None]]) -> None:
        """Until a call slot is free (or the engine stops). The loop that renews this
        node's leases is this one, so it renews them meanwhile: calls held for minutes by
        a slow backend must not look abandoned to the other nodes."""
        while self._free_slots <= 0 and not self._stopping:
            self._slot_freed.clear()
            await self._clock.sleep_until(self._clock.now() + self._s.lease / 3,
                                          self._slot_freed)
            if self._free_slots <= 0 and not self._stopping:
                await maintain(self._clock.now())

    async def _fence_and_launch(self, due: list[PlannedExecution], now: datetime) -> None:
        circumstances = self._circumstances()
        adopted = dataclasses.replace(circumstances, adopted=True)

        def told(p: PlannedExecution) -> Circumstances:
            # Why an occurrence is late: for one taken over, its engine stopped.
            return adopted if p.adopted else circumstances

        grace_line = now - self._s.grace

        def overdue(p: PlannedExecution) -> bool:
            # Against the planned time: jitter alone never makes an occurrence a misfire.
            return (p.trigger == "SCHEDULE" and p.first_attempt == 1 and not p.buffered
                    and p.fire_at < grace_line)

        # The misfire rule before the overlap rule: of several occurrences of one task due
        # together only the latest may run; the others are MISSED (not SKIPPED: nothing of
        # them was running). Past the grace, the misfire policy says why; within it, the
        # message says which one ran instead (apicron.engine.coalescing).
        latest: dict[str, datetime] = {}
        for p in filter(coalescible, due):
            latest[p.task.id] = max(latest.get(p.task.id, p.scheduled_at), p.scheduled_at)
        superseded_here = {
            p.id: told(p).missed(p.scheduled_at, now, p.task.misfire_policy)
            if overdue(p) else told(p).coalesced(p.fire_at, now, latest[p.task.id])
            for p in due if coalescible(p) and p.scheduled_at < latest[p.task.id]
            and (overdue(p) or may_coalesce(p.fire_at, now, told(p)))
        }
        # The latest here of each task, within the grace: a later occurrence due too may
        # be written down elsewhere, or not planned yet (asked of the store in the fence).
        held_latest = [p for p in due if coalescible(p) and not overdue(p)
                       and p.id not in superseded_here]
        coalesced_tasks = {p.task.id for p in due if p.id in superseded_here}
        skip: list[PlannedExecution] = []
        go: list[PlannedExecution] = []
        seen: set[str] = set()
        # BUFFER_ONE: the occurrences that will wait (for this node's execution: None; for
        # another node's: when to look again), and those refused as one already waits.
        hold: dict[str, tuple[PlannedExecution, datetime | None]] = {}
        crowded: list[PlannedExecution] = []

        def buffer_or_skip(item: PlannedExecution, recheck_at: datetime | None) -> None:
            if self._buffer.holds(item.task.id) or item.task.id in hold:
                crowded.append(item)
            else:
                hold[item.task.id] = (item, recheck_at)

        for item in sorted(due, key=lambda p: p.scheduled_at):
            if item.id in superseded_here:
                continue
            overlapping = self._active_tasks[item.task.id] > 0 or item.task.id in seen
            policy = item.task.overlap_policy
            if item.trigger in OVERLAP_EXEMPT:
                go.append(item)
            elif policy == "SKIP" and item.first_attempt == 1 and overlapping:
                skip.append(item)
            elif policy == "BUFFER_ONE" and item.first_attempt == 1 and overlapping:
                buffer_or_skip(item, None)
            else:
                go.append(item)
                seen.add(item.task.id)
        stale = [p for p in go if overdue(p)]
        node, lease = self._s.node_id, now + self._s.lease

        # Kept small on purpose: it stands between the clock and the calls. This node's
        # own running executions are known in memory (_active_tasks), so only other
        # nodes' are asked of the store, and results are left to the writer.
        def fence(q: Queries) -> tuple[set[str], dict[str, str], Recorded]:
            missed = self._decide_stale(q, stale, now, told) | superseded_here
            later = superseded_in_store(
                q, [p for p in held_latest if may_coalesce(p.fire_at, now, told(p))], now)
            for item in held_latest:
                if item.id in later:
                    missed[item.id] = told(item).coalesced(item.fire_at, now, later[item.id])
            # MISSED, not SKIPPED or waiting: a later occurrence runs instead.
            skip[:] = [p for p in skip if p.id not in missed]
            crowded[:] = [p for p in crowded if p.id not in missed]
            go[:] = [p for p in go if p.id not in missed]
            others = q.tasks_with_running(
                [p.task.id for p in go
                 if p.task.overlap_policy != "ALLOW" and p.trigger not in OVERLAP_EXEMPT],
                exclude_node=node,
            )
            remote_notes: dict[str, str] = {}
            for item in [p for p in go if p.task.id in others and p.first_attempt == 1
                         and p.trigger not in OVERLAP_EXEMPT]:
                if item.task.overlap_policy == "CANCEL_PREVIOUS":
                    remote_notes[item.id] = REMOTE_PREVIOUS_NOTE
                    continue
                go.remove(item)
                if item.task.overlap_policy == "BUFFER_ONE":
                    behind = hold.get(item.task.id)
                    if (behind is not None and behind[1] is None
                            and self._active_tasks[item.task.id] <= 0):
                        # A later occurrence was set to wait for this one, which does not
                        # run now after all: this one, first in line, waits for the other
                        # node's execution; the later one is refused (not left waiting for
                        # a local execution that never comes).
                        del hold[item.task.id]
                        if behind[0].id not in missed:
                            crowded.append(behind[0])
                    buffer_or_skip(item, now + RECHECK)
                elif (now - item.fire_at < REMOTE_SETTLE and not self._buffer.holds(
                        item.task.id) and item.task.id not in hold):
                    # SKIP: that node may have finished and not written it yet
                    # (apicron.engine.overlap.REMOTE_SETTLE): look again shortly.
                    hold[item.task.id] = (
                        item, min(now + REMOTE_LOOK, item.fire_at + REMOTE_SETTLE))
                else:
                    skip.append(item)
            for item in [p for p in go if p.id in missed]:
                go.remove(item)
            skipped = {p.id: SKIPPED_MESSAGE for p in skip} | {
                p.id: ALREADY_BUFFERED for p in crowded}
            closing = q.pending_tasks(list(skipped) + list(missed)) if (
                skipped or missed) else {}
            q.close_pending(skipped, "SKIPPED", now)
            q.close_pending(missed, "MISSED", now)
            recorded = record_results(q, [
                AlertFact(i, task_id, "MISSED" if i in missed else "SKIPPED", now, None,
                          missed.get(i) or skipped.get(i, SKIPPED_MESSAGE))
                for i, task_id in closing.items()
            ], now)
            fresh = [p.id for p in go if p.first_attempt == 1]
            started = q.mark_running(fresh, node, now, lease)
            q.set_notes({p.id: told(p).late(p.fire_at, now) for p in stale
                         if p.id in started and p.note is None})
            # Run late within the grace (found a second or more after its time, or the
            # latest of several due together): the row says so.
            q.set_notes({p.id: told(p).found_late(
                             p.fire_at, now, coalesced=p.task.id in coalesced_tasks)
                         for p in held_latest
                         if p.id in started and p.note is None and (
                             p.task.id in coalesced_tasks
                             or now - p.fire_at >= MIN_INTERVAL)})
            q.set_notes({p.id: BUFFERED_NOTE if p.task.overlap_policy == "BUFFER_ONE"
                         else REMOTE_WAITED_NOTE
                         for p in go if p.buffered and p.id in started}
                        | {i: n for i, n in remote_notes.items() if i in started})
            if skipped or missed:
                end_one_off_tasks(q, now)
            # Resumed executions (retries after a crash) are RUNNING already.
            return started | {p.id for p in go if p.first_attempt > 1}, missed, recorded

        started, missed, recorded = await self._db.write(fence)
        announce(recorded)
        metrics.SKIPPED.inc(len(skip) + len(crowded))
        metrics.MISSED.inc(len(missed))
        for item in skip + crowded:
            self._left(item)
        for item, recheck_at in hold.values():
            if item.id in missed:
                self._left(item)
            else:  # still PENDING under this node's lease: it waits in memory
                self._buffer.hold(item, recheck_at)
        waiting = {item.id for item, _ in hold.values()}
        for item in due:
            if item.id in missed and item.id not in waiting:
                self._left(item)
        launched = 0
        for item in go:
            if item.id in started:
                self._launch(item)
                launched += 1
            else:
                self._left(item)
        if launched:
            # About what it takes the loop to send them (~0.4 ms each here), capped.
            loop = asyncio.get_running_loop()
            self._quiet_until = max(self._quiet_until,
                                    loop.time() + min(0.02 + 0.0004 * launched, 1.0))

    @staticmethod
    def _decide_stale(
        q: Queries, stale: list[PlannedExecution], now: datetime,
        told: Callable[[PlannedExecution], Circumstances],
    ) -> dict[str, str]:
        """Occurrences past the grace that will not run, with why (DESIGN.md, Misfire:
        the grace only decides what is a misfire, not whether RUN_ONCE runs)."""
        if not stale:
            return {}
        superseded = q.superseded([(p.task.id, p.scheduled_at) for p in stale], now)
        latest: dict[str, datetime] = {}
        for p in stale:
            latest[p.task.id] = max(latest.get(p.task.id, p.scheduled_at), p.scheduled_at)
        missed: dict[str, str] = {}
        for p in stale:
            runs = (p.task.misfire_policy == "RUN_ONCE"
                    and (p.task.id, p.scheduled_at) not in superseded
                    and latest[p.task.id] == p.scheduled_at)
            if not runs:
                missed[p.id] = told(p).missed(p.scheduled_at, now, p.task.misfire_policy)
        return missed

    def _launch(self, item: PlannedExecution) -> None:
        metrics.FIRES.labels(item.trigger).inc()
        # A backfill's executions neither count as the task's running one nor cancel it.
        counted = item.trigger not in OVERLAP_EXEMPT
        if (counted and item.task.overlap_policy == "CANCEL_PREVIOUS"
                and item.first_attempt == 1):
            self._cancel_running(item)
        self._free_slots -= 1
        if counted:
            self._active_tasks[item.task.id] += 1
        task = asyncio.create_task(self._dispatcher.execute(item), name=f"execution-{item.id}")
        self._running[item.id] = task
        self._in_flight[item.id] = item

        def done(_: asyncio.Task[str]) -> None:
            self._running.pop(item.id, None)
            self._in_flight.pop(item.id, None)
            self._left(item)
            if counted:
                self._active_tasks[item.task.id] -= 1
                if self._active_tasks[item.task.id] <= 0:
                    del self._active_tasks[item.task.id]
                    self._release_waiting(item.task.id)
            self._free_slots += 1
            self._slot_freed.set()
            cancelled_why = self._cancelled.pop(item.id, None)
            if task.cancelled():
                if cancelled_why is not None:
                    # Cancelled before its first step: no attempt began; the execution
                    # still ends FAILED saying why (not RUNNING until its lease expires).
                    self._dispatcher.writer.change(ExecutionOutcome(
                        item.id, "FAILED", item.first_attempt, self._clock.now(),
                        "CANCELLED", cancelled_why,
                    ))
                return
            error = task.exception()
            if error is not None:
                # A fault of apicron's own while making the call: the execution ends
                # FAILED saying so (not RUNNING until its lease expires and then retried).
                log.error("execution %s of task %s crashed", item.id, item.task.name,
                          exc_info=error, extra=execution_ids(item.task.id, item.id))
                self._dispatcher.writer.change(ExecutionOutcome(
                    item.id, "FAILED", item.first_attempt, self._clock.now(), "INTERNAL",
                    f"apicron failed while making this call ({type(error).__name__}: "
                    f"{describe(error)}); see the log",
                ))

        task.add_done_callback(done)

    def _cancel_running(self, replacing: PlannedExecution) -> None:
        """CANCEL_PREVIOUS: cancel this node's executions of the task ``replacing`` is of;
        the dispatcher records each one's attempt CANCELLED and the execution FAILED."""
        reason = OverlapCancel(cancel_message(replacing.scheduled_at))
        for execution_id, running in list(self._in_flight.items()):
            if (running.task.id == replacing.task.id and execution_id in self._running
                    and running.trigger not in OVERLAP_EXEMPT):
                log.info("execution %s of task %s cancelled by the occurrence at %s",
                         execution_id, running.task.name, replacing.scheduled_at.isoformat(),
                         extra=execution_ids(running.task.id, execution_id))
                self._cancelled[execution_id] = reason.message
                self._running[execution_id].cancel(reason)

    def _release_waiting(self, task_id: str) -> None:
        """BUFFER_ONE: the occurrence waiting for ``task_id``'s execution is due now."""
        waiting = self._buffer.release(task_id)
        if waiting is None:
            return
        heapq.heappush(self._planned, (self._clock.now(), next(self._sequence), waiting))
        if self._wake is not None:
            self._wake()

    async def drain(self, grace_seconds: float) -> None:
        """Let the calls in flight finish, up to ``grace_seconds``; cancel the rest."""
        if not self._running:
            return
        _, pending = await asyncio.wait(list(self._running.values()), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1)
