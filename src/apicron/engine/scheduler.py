"""The scheduler loop: plan ahead, fire on time, record everything, recover orphans.

One coroutine drives it; every database call runs on one dedicated thread, so the loop's
transactions never contend with each other. Each pass:

1. *fire*: planned executions whose time has come are fenced in one transaction
   (PENDING → RUNNING; a stop that discarded them wins; overlap SKIP decided) and handed
   to the dispatcher, bounded by ``max_in_flight``;
2. *write results* the dispatchers produced since the last pass;
3. *take queued*: manual runs and orphans of a dead engine (after a wake-up, and
   every few seconds);
4. *plan*: once the next task is due within ``plan_lead``, tasks due within ``lookahead``
   are claimed (one ``UPDATE … RETURNING``), their occurrences planned (misfires
   collapsed), the execution rows inserted (PENDING, unique per occurrence) and the next
   fire times advanced, all in one transaction, before any call is made;
5. sleep until the earliest of: the next planned execution, the next task due minus
   ``plan_lead``, the next maintenance — or until a change wakes it.

Database work is kept away from the instants calls go out: planning runs half a second
before a second's calls are due (not while the previous second's are sent), and results
and lease renewals wait until a batch of calls has left (the database thread would
otherwise hold the interpreter lock the sends need).

Planning ahead is what makes firing precise: at the second itself only the small fence
transaction stands between the clock and the HTTP request.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import Counter as Tally
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from apicron.domain.errors import ApicronError
from apicron.domain.models import StoredTask
from apicron.engine import metrics
from apicron.engine.clock import EngineClock
from apicron.engine.dispatch import Dispatcher, PlannedExecution
from apicron.engine.planning import plan_task
from apicron.engine.results import ResultBatch
from apicron.services.context import Context, new_id
from apicron.services.tasks import schedule_of
from apicron.store.database import is_unavailable
from apicron.store.store import Queries

log = logging.getLogger("apicron.engine")
T = TypeVar("T")

MISSED_MESSAGE = {
    "RUN_ONCE": "not run: apicron was not running at its time (misfire policy RUN_ONCE "
    "runs only the latest missed occurrence)",
    "SKIP": "not run: apicron was not running at its time (misfire policy SKIP)",
    "LOST": "not run: apicron stopped after planning it and came back too late",
}
SKIPPED_MESSAGE = "previous execution not finished"


@dataclass(frozen=True)
class EngineSettings:
    node_id: str = ""
    batch_size: int = 500
    fire_chunk: int = 250
    lookahead: timedelta = timedelta(seconds=2)
    # Planning starts when the next task is due this soon: 10,000 tasks due in one second
    # are planned before it comes, and an every-second schedule is planned mid-second.
    plan_lead: timedelta = timedelta(seconds=1.5)
    grace: timedelta = timedelta(seconds=60)
    lease: timedelta = timedelta(seconds=15)
    max_in_flight: int = 2000
    queue_scan_every: timedelta = timedelta(seconds=5)
    prune_every: timedelta = timedelta(minutes=10)
    history_keep: int = 1000
    history_days: int = 30
    # Single-node SQLite: on start every unfinished execution is an orphan of a dead run.
    take_over_on_start: bool = True
    # While the database is unreachable: how often to try again.
    retry_every: timedelta = timedelta(seconds=1)
    # After the database came back, other nodes' expired leases are left alone this long,
    # so that nodes which were cut off too have renewed theirs before anyone adopts them.
    recovery_grace: timedelta = timedelta(seconds=3)


class Engine:
    def __init__(
        self,
        ctx: Context,
        dispatcher: Dispatcher,
        clock: EngineClock,
        settings: EngineSettings | None = None,
    ):
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.writer = dispatcher.writer
        self.clock = clock
        settings = settings or EngineSettings()
        if not settings.node_id:
            settings = EngineSettings(**{**settings.__dict__, "node_id": ctx.node_id})
        self.settings = settings
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apicron-engine-db")
        self._planned: list[tuple[datetime, int, PlannedExecution]] = []
        self._sequence = itertools.count()
        self._known: set[str] = set()
        self._running: dict[str, asyncio.Task[str]] = {}
        self._active_tasks: Tally[str] = Tally()
        self._free_slots = settings.max_in_flight  # calls that may still be sent now
        self._slot_freed = asyncio.Event()
        self._wake = asyncio.Event()
        self._results_ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._changed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._earliest: datetime | None = None
        self._next_queue_scan: datetime | None = None
        self._next_prune: datetime | None = None
        self._next_lease_renewal: datetime | None = None
        self._started_up = False
        self._database_lost = False
        self._foreign_after: datetime | None = None
        self._quiet_until = 0.0  # loop time until which a batch of calls is still leaving

    # -- plumbing --------------------------------------------------------------------------

    async def _in_db(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn)

    def wake(self) -> None:
        """Thread-safe: something changed (start, stop, manual run); look again now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._changed_now)

    def _changed_now(self) -> None:
        self._changed = True
        self._wake.set()

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        unsubscribe = self.ctx.changes.subscribe(self.wake)
        self.writer.on_add = self._results_ready.set
        writer = asyncio.create_task(self._write_results_soon(), name="engine-results")
        log.info("engine %s started", self.settings.node_id)
        try:
            while not self._stopping:
                try:
                    if not self._started_up:
                        await self._take_queued(self.clock.now(), startup=True)
                        self._started_up = True
                    await self._pass()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    await self._database_unavailable(exc)
                else:
                    self._database_back()
        finally:
            unsubscribe()
            writer.cancel()
            self._stopped.set()

    async def _pass(self) -> None:
        now = self.clock.now()
        woken, self._changed = self._changed, False
        self._wake.clear()
        due: list[PlannedExecution] = []
        while self._planned and self._planned[0][0] <= now:
            due.append(heapq.heappop(self._planned)[2])
        if due:
            await self._fire(due)
        sending = self._sending()
        if not sending:
            await self._write_results()
        if woken or self._next_queue_scan is None or now >= self._next_queue_scan:
            await self._take_queued(now)
        full = False
        if woken or self._earliest is None or self._earliest <= now + self.settings.plan_lead:
            full = await self._plan(now)
        if not sending:
            await self._maintain(now)
        metrics.QUEUE_DEPTH.set(len(self._planned) + len(self._running))
        if full or self._wake.is_set():
            return
        await self.clock.sleep_until(self._next_wake(), self._wake)

    def _sending(self) -> bool:
        return asyncio.get_running_loop().time() < self._quiet_until

    async def _database_unavailable(self, exc: BaseException) -> None:
        """Nothing is fired without its fence: planned executions wait in memory (and are
        recorded MISSED if the outage outlasts the grace), results wait in the writer."""
        self.ctx.health.failed(exc)
        self._database_lost = True
        await self.clock.sleep_until(self.clock.now() + self.settings.retry_every, self._wake)

    def _database_back(self) -> None:
        if self._database_lost:
            self._database_lost = False
            self._foreign_after = self.clock.now() + self.settings.recovery_grace
        self.ctx.health.succeeded()

    def _next_wake(self) -> datetime | None:
        candidates = [
            self._next_queue_scan,
            self._next_prune,
            self._next_lease_renewal,
            self._planned[0][0] if self._planned else None,
            self._earliest - self.settings.plan_lead if self._earliest else None,
        ]
        return min((c for c in candidates if c is not None), default=None)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop planning; let calls in flight finish (up to ``grace_seconds``), record them.

        What does not finish in time stays RUNNING in the store and is resumed by the next
        start (or another node), like after a crash.
        """
        self._stopping = True
        self._wake.set()
        self._slot_freed.set()
        if self._loop is not None:
            await self._stopped.wait()
        if self._running:
            _, pending = await asyncio.wait(list(self._running.values()), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)
        try:
            await self._write_results()
            handed = await self._in_db(self._hand_back)
            if handed:
                log.info("handed back %d unfinished executions to the other nodes", handed)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.error("could not record the last results or hand back work: the database "
                      "is unreachable; other nodes take it over when its leases expire")
        finally:
            self._db.shutdown(wait=True)

    def _hand_back(self) -> int:
        """What this node planned or was running and did not finish goes back to the
        queue now, instead of when its leases expire."""
        with self.ctx.store.write() as q:
            return q.release_node_work(self.settings.node_id)

    # -- planning --------------------------------------------------------------------------

    async def _plan(self, now: datetime) -> bool:
        started = asyncio.get_running_loop().time()
        planned, earliest, full = await self._in_db(lambda: self._plan_batch(now))
        metrics.CLAIM_DURATION.observe(asyncio.get_running_loop().time() - started)
        self._earliest = earliest
        for item in planned:
            self._schedule(item)
        return full

    def _plan_batch(self, now: datetime) -> tuple[list[PlannedExecution], datetime | None, bool]:
        s = self.settings
        with self.ctx.store.write() as q:
            claimed = q.claim_due_tasks(now, now + s.lookahead, now + s.lease, s.batch_size)
            rows: list[dict[str, Any]] = []
            advances: list[dict[str, Any]] = []
            by_id: dict[str, tuple[StoredTask, datetime]] = {}
            for task in claimed:
                assert task.next_fire_time is not None
                try:
                    plan = plan_task(
                        schedule_of(task),
                        task.next_fire_time,
                        now=now,
                        horizon=now + s.lookahead,
                        grace=s.grace,
                        misfire_policy=task.misfire_policy,
                        max_missed=s.history_keep,
                    )
                except ApicronError as exc:
                    # A trigger that no longer evaluates (e.g. a zone gone from tzdata) stops
                    # its task loudly instead of being retried forever.
                    log.error("task %s stopped: its trigger cannot be evaluated: %s",
                              task.name, exc)
                    advances.append(self._advance(task, None))
                    continue
                for at in plan.missed:
                    rows.append(self._row(task, at, "MISSED", now,
                                          error_msg=MISSED_MESSAGE[task.misfire_policy]))
                for at in plan.run:
                    execution_id = new_id()
                    rows.append(self._row(task, at, "PENDING", now, execution_id=execution_id))
                    by_id[execution_id] = (task, at)
                advances.append(self._advance(task, plan.next_fire))
                metrics.MISSED.inc(len(plan.missed))
            inserted = q.insert_executions(rows)
            q.advance_tasks(advances)
            earliest = q.earliest_fire_time()
        planned = [
            PlannedExecution(id=i, task=task, scheduled_at=at, trigger="SCHEDULE")
            for i, (task, at) in by_id.items()
            if i in inserted
        ]
        return planned, earliest, len(claimed) >= s.batch_size

    @staticmethod
    def _advance(task: StoredTask, next_fire: datetime | None) -> dict[str, Any]:
        # A task with no fire time left (past its end_time) stops itself.
        return {
            "task_id": task.id,
            "previous": task.next_fire_time,
            "next_fire_time": next_fire,
            "status": "STARTED" if next_fire is not None else "STOPPED",
        }

    def _row(
        self,
        task: StoredTask,
        at: datetime,
        status: str,
        now: datetime,
        *,
        execution_id: str | None = None,
        error_msg: str | None = None,
    ) -> dict[str, Any]:
        pending = status == "PENDING"
        return {
            "id": execution_id or new_id(),
            "task_id": task.id,
            "scheduled_at": at,
            "trigger": "SCHEDULE",
            "status": status,
            "attempts": 0,
            "started_at": None,
            "finished_at": None if pending else now,
            "error_kind": None,
            "error_msg": error_msg,
            "claimed_by": self.settings.node_id if pending else None,
            "lease_until": now + self.settings.lease if pending else None,
            "created_at": now,
        }

    def _schedule(self, item: PlannedExecution) -> None:
        if item.id in self._known:
            return
        self._known.add(item.id)
        heapq.heappush(self._planned, (item.scheduled_at, next(self._sequence), item))

    # -- firing ----------------------------------------------------------------------------

    async def _fire(self, due: list[PlannedExecution]) -> None:
        # Fenced and launched a few hundred at a time: with thousands due at once, the
        # first calls go out while the next ones are fenced (measured: a burst of 10,000
        # delivered in 3.1 s this way, 3.9 s with one fence for all). Never more than there
        # are free call slots: what is RUNNING under this node's lease is on its way.
        fenced = 0
        try:
            while fenced < len(due):
                await self._wait_for_slot()
                if self._free_slots <= 0:  # stopping: the rest is handed back
                    break
                step = min(self.settings.fire_chunk, self._free_slots)
                await self._fence_and_launch(due[fenced : fenced + step], self.clock.now())
                fenced += step
        finally:
            # Not fenced (a fence that did not commit, a stop): nothing of it was
            # launched; keep it for the next pass.
            for item in due[fenced:]:
                heapq.heappush(self._planned, (item.scheduled_at, next(self._sequence), item))

    async def _wait_for_slot(self) -> None:
        """Until a call slot is free (or the engine stops). The loop that renews this
        node's leases is this one, so it renews them meanwhile: calls held for minutes by
        a slow backend must not look abandoned to the other nodes."""
        while self._free_slots <= 0 and not self._stopping:
            self._slot_freed.clear()
            await self.clock.sleep_until(
                self._next_lease_renewal or self.clock.now(), self._slot_freed
            )
            if self._free_slots <= 0 and not self._stopping:
                await self._maintain(self.clock.now())

    async def _fence_and_launch(self, due: list[PlannedExecution], now: datetime) -> None:
        skip: list[PlannedExecution] = []
        go: list[PlannedExecution] = []
        missed: list[PlannedExecution] = []
        seen: set[str] = set()
        for item in sorted(due, key=lambda p: p.scheduled_at):
            if item.first_attempt == 1 and item.scheduled_at < now - self.settings.grace:
                # Held back past the grace (the database was unreachable): too late to run.
                missed.append(item)
                continue
            overlapping = self._active_tasks[item.task.id] > 0 or item.task.id in seen
            if item.task.overlap_policy == "SKIP" and item.first_attempt == 1 and overlapping:
                skip.append(item)
            else:
                go.append(item)
                seen.add(item.task.id)
        node, lease = self.settings.node_id, now + self.settings.lease

        # Kept small on purpose: it stands between the clock and the calls. This node's
        # own running executions are known in memory (_active_tasks), so only other
        # nodes' are asked of the store, and results are left to the writer.
        def fence() -> set[str]:
            with self.ctx.store.write() as q:
                others = q.tasks_with_running(
                    [p.task.id for p in go if p.task.overlap_policy == "SKIP"], exclude_node=node
                )
                for item in [p for p in go if p.task.id in others and p.first_attempt == 1]:
                    go.remove(item)
                    skip.append(item)
                q.close_pending([p.id for p in skip], "SKIPPED", SKIPPED_MESSAGE, now)
                q.close_pending([p.id for p in missed], "MISSED", MISSED_MESSAGE["LOST"], now)
                fresh = [p.id for p in go if p.first_attempt == 1]
                started = q.mark_running(fresh, node, now, lease)
                # Resumed executions (retries after a crash) are RUNNING already.
                return started | {p.id for p in go if p.first_attempt > 1}

        started = await self._in_db(fence)
        metrics.SKIPPED.inc(len(skip))
        metrics.MISSED.inc(len(missed))
        for item in skip + missed:
            self._known.discard(item.id)
        launched = 0
        for item in go:
            if item.id in started:
                self._launch(item)
                launched += 1
            else:
                self._known.discard(item.id)
        if launched:
            # About what it takes the loop to send them (~0.4 ms each here), capped.
            loop = asyncio.get_running_loop()
            self._quiet_until = max(self._quiet_until,
                                    loop.time() + min(0.02 + 0.0004 * launched, 1.0))

    def _launch(self, item: PlannedExecution) -> None:
        metrics.FIRES.labels(item.trigger).inc()
        self._free_slots -= 1
        self._active_tasks[item.task.id] += 1
        task = asyncio.create_task(self.dispatcher.execute(item), name=f"execution-{item.id}")
        self._running[item.id] = task

        def done(_: asyncio.Task[str]) -> None:
            self._running.pop(item.id, None)
            self._known.discard(item.id)
            self._active_tasks[item.task.id] -= 1
            if self._active_tasks[item.task.id] <= 0:
                del self._active_tasks[item.task.id]
            self._free_slots += 1
            self._slot_freed.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("execution %s crashed", item.id, exc_info=task.exception())

        task.add_done_callback(done)

    # -- results ---------------------------------------------------------------------------

    @staticmethod
    def _write(q: Queries, batch: ResultBatch, node: str) -> None:
        q.insert_attempts([{**a, "node_id": node} for a in batch.attempts])
        # Only while this node still holds the execution: if its lease lapsed and another
        # node took it over, that node's outcome is the one recorded.
        q.update_executions(batch.updates, held_by=node)

    async def _write_results_soon(self) -> None:
        """Write results shortly after they appear, in batches (real time, not the
        engine clock: it is I/O pacing, not scheduling)."""
        loop = asyncio.get_running_loop()
        while True:
            await self._results_ready.wait()
            await asyncio.sleep(0.02)
            quiet = self._quiet_until - loop.time()
            if quiet > 0:
                await asyncio.sleep(quiet)
            self._results_ready.clear()
            try:
                await self._write_results()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                # Kept in the writer; the main loop reports the outage and retries.
                self.ctx.health.failed(exc)
                await asyncio.sleep(self.settings.retry_every.total_seconds())
                self._results_ready.set()

    async def _write_results(self) -> None:
        batch = self.writer.take()
        if batch:
            node = self.settings.node_id

            def write() -> None:
                with self.ctx.store.write() as q:
                    self._write(q, batch, node)

            try:
                await self._in_db(write)
            except BaseException:
                self.writer.restore(batch)  # not written: nothing of it may be lost
                raise

    # -- queued executions: manual runs and orphans ------------------------------------------

    async def _take_queued(self, now: datetime, *, startup: bool = False) -> None:
        self._next_queue_scan = now + self.settings.queue_scan_every
        s = self.settings
        all_foreign = startup and s.take_over_on_start
        foreign = self._foreign_after is None or now >= self._foreign_after

        def take() -> list[tuple[dict[str, Any], StoredTask | None]]:
            with self.ctx.store.write() as q:
                rows = q.claim_queued(s.node_id, now, now + s.lease, s.batch_size,
                                      all_foreign=all_foreign, foreign=foreign)
                rows = [r for r in rows if r["id"] not in self._known]
                tasks = {r["task_id"]: q.get_task(r["task_id"]) for r in rows}
                return [(r, tasks[r["task_id"]]) for r in rows]

        for row, task in await self._in_db(take):
            if task is not None:
                self._adopt(row, task, now)

    def _adopt(self, row: dict[str, Any], task: StoredTask, now: datetime) -> None:
        """Decide what an execution taken from the queue becomes."""
        execution_id, attempts = row["id"], row["attempts"]
        if row["status"] == "PENDING" and row["trigger"] == "MANUAL":
            self._schedule(PlannedExecution(execution_id, task, row["scheduled_at"], "MANUAL"))
            return
        if row["status"] == "PENDING":
            if row["scheduled_at"] < now - self.settings.grace:
                self.writer.update(execution_id, status="MISSED", finished_at=now,
                                   error_msg=MISSED_MESSAGE["LOST"],
                                   claimed_by=None, lease_until=None)
                metrics.MISSED.inc()
            else:
                self._schedule(PlannedExecution(execution_id, task, row["scheduled_at"],
                                                "SCHEDULE"))
            return
        # RUNNING: its engine died during an attempt whose outcome nobody recorded.
        number = attempts + 1
        self.writer.attempt(
            {
                "execution_id": execution_id,
                "number": number,
                "started_at": row["started_at"] or now,
                "finished_at": now,
                "duration_ms": 0,
                "http_status": None,
                "error_kind": "INTERRUPTED",
                "error_msg": "apicron stopped during this attempt; whether the call "
                "reached the backend is unknown",
                "response_excerpt": None,
            }
        )
        if number <= task.max_retries:
            self.writer.update(execution_id, attempts=number, error_kind="INTERRUPTED")
            log.info("resuming execution %s of task %s (attempt %d)", execution_id,
                     task.name, number + 1)
            self._schedule(
                PlannedExecution(execution_id, task, row["scheduled_at"], row["trigger"],
                                 first_attempt=number + 1)
            )
        else:
            self.writer.update(
                execution_id, status="FAILED", attempts=number, finished_at=now,
                error_kind="INTERRUPTED",
                error_msg="apicron stopped during the last allowed attempt",
                claimed_by=None, lease_until=None,
            )
            metrics.FAILURES.labels("INTERRUPTED").inc()

    # -- maintenance -----------------------------------------------------------------------

    async def _maintain(self, now: datetime) -> None:
        s = self.settings
        if self._next_lease_renewal is None or now >= self._next_lease_renewal:
            self._next_lease_renewal = now + s.lease / 3
            held = [i for i in self._known]
            if held:
                await self._in_db(lambda: self._renew(held, now + s.lease))
        if self._next_prune is None or now >= self._next_prune:
            self._next_prune = now + s.prune_every

            def prune() -> int:
                with self.ctx.store.write() as q:
                    return q.prune_executions(now - timedelta(days=s.history_days),
                                              s.history_keep)

            removed = await self._in_db(prune)
            if removed:
                log.info("pruned %d old executions", removed)

    def _renew(self, held: list[str], until: datetime) -> None:
        with self.ctx.store.write() as q:
            q.renew_leases(self.settings.node_id, held, until)
