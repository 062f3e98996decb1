"""The scheduler loop: plan ahead, fire on time, record everything, recover orphans.

One coroutine drives it; every database call runs on one dedicated thread
(:mod:`apicron.engine.database`). Each pass:

1. *fire* (:mod:`~apicron.engine.firing`): planned executions whose time has come are
   fenced and handed to the dispatcher, bounded by ``max_in_flight``;
2. *write results* (:mod:`~apicron.engine.recorder`) the dispatchers produced;
3. *take queued* (:mod:`~apicron.engine.takeover`): manual runs and orphans of a dead
   engine (after a wake-up, and every few seconds);
4. *plan* (:mod:`~apicron.engine.planner`): once the next task is due within
   ``plan_lead``, the tasks due within ``lookahead`` are claimed and their occurrences
   written down before any call is made;
5. *maintain* (:mod:`~apicron.engine.maintenance`): leases renewed, history pruned;
6. sleep until the earliest of: the next planned execution, the next task due minus
   ``plan_lead``, the next maintenance — or until a change wakes it.

Database work is kept away from the instants calls go out: planning runs half a second
before a second's calls are due (not while the previous second's are sent), and results
and lease renewals wait until a batch of calls has left (the database thread would
otherwise hold the interpreter lock the sends need).

The engine never stops firing without saying so (issue 13). A stage that raises an
unexpected error costs that stage of that pass: the others run, the error is logged once
per run of failures and counted (``apicron_engine_loop_errors_total``), and the pass does
not count as completed for ``/livez``. A database outage is waited out (``/readyz`` says
so). Passes failing for ``give_up_after`` end the engine with one CRITICAL line and
:class:`EngineFailed`, so the process exits non-zero and a supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apicron.alerts.outbox import announce
from apicron.domain.errors import ApicronError
from apicron.domain.misfire import Circumstances
from apicron.engine import metrics
from apicron.engine.clock import EngineClock
from apicron.engine.database import EngineDatabase
from apicron.engine.dispatch import Dispatcher
from apicron.engine.firing import Firing
from apicron.engine.maintenance import Maintenance
from apicron.engine.planner import Planner
from apicron.engine.recorder import ResultRecorder
from apicron.engine.settings import EngineSettings
from apicron.engine.takeover import Takeover
from apicron.services.context import Context
from apicron.services.health import describe
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.engine")

__all__ = ["Engine", "EngineFailed", "EngineSettings"]

# After a failed pass: the next one comes this soon (not at the next due time, which may
# be hours away), so that a passing fault heals quickly and a lasting one is seen.
_RETRY_FAILED_PASS = 1.0


class EngineFailed(ApicronError):
    """The engine loop cannot go on (its passes kept failing); the process should exit
    non-zero so that a supervisor restarts it."""

    code = "ENGINE_FAILED"


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
        self._db = EngineDatabase(ctx.store)
        self._firing = Firing(self._db, dispatcher, clock, settings, self._circumstances,
                              wake=lambda: self._wake.set())
        self._planner = Planner(settings)
        self._recorder = ResultRecorder(self._db, self.writer, settings.node_id)
        self._takeover = Takeover(self._db, self._firing, self.writer, settings)
        self._maintenance = Maintenance(self._db, self._firing, settings)
        self._wake = asyncio.Event()
        self._firing.on_release = self._wake.set
        self._results_ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._changed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._running = False
        self._earliest: datetime | None = None
        self._next_queue_scan: datetime | None = None
        self._started_up = False
        self._started_at = clock.now()
        self._database_lost: datetime | None = None
        self._outage: tuple[datetime, datetime | None] | None = None
        self._foreign_after: datetime | None = None
        self._pass_failed = False
        self.passes = 0
        """Passes completed so far (tests wait on it to know a change was looked at)."""
        self.passes_begun = 0

    # -- plumbing --------------------------------------------------------------------------

    @property
    def results_pending(self) -> int:
        """Results not yet written: held by the writer or being written now."""
        return len(self.writer) + self._recorder.writing

    @property
    def running(self) -> bool:
        """The loop runs (started, not stopped, not given up)."""
        return self._running

    def wake(self) -> None:
        """Thread-safe: something changed (start, stop, manual run); look again now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._changed_now)

    def _changed_now(self) -> None:
        self._changed = True
        self._wake.set()

    def _circumstances(self) -> Circumstances:
        outage_from, outage_until = self._outage or (None, None)
        return Circumstances(self._started_at, outage_from, outage_until)

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until :meth:`stop`. Raises :class:`EngineFailed` if passes keep failing."""
        self._loop = asyncio.get_running_loop()
        self._started_at = self.clock.now()
        unsubscribe = self.ctx.changes.subscribe(self.wake)
        self.writer.on_add = self._results_ready.set
        writer = asyncio.create_task(self._write_results_soon(), name="engine-results")
        liveness = self.ctx.engine
        # Not live once passes have failed for half the give-up time (30 s at most): a
        # supervisor probing /livez sees it before the engine gives up by itself.
        liveness.stale_after_s = min(30.0, self.settings.give_up_after.total_seconds() / 2)
        liveness.started(self.clock.now())
        self._running = True
        log.info("engine %s started", self.settings.node_id)
        gave_up = False
        try:
            while not self._stopping:
                self._pass_failed = False
                try:
                    if not self._started_up:
                        await self._stage("takeover", self._take_queued(
                            self.clock.now(), startup=True))
                        self._started_up = not self._pass_failed
                    rest = await self._pass()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    await self._database_unavailable(exc)
                    continue
                self._database_back()
                if self._pass_failed:
                    self._give_up_if_failing_for_long()
                    # Real time, not the engine clock: it paces retries, schedules nothing.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), _RETRY_FAILED_PASS)
                    continue
                self.passes += 1
                liveness.alive(self.clock.now())
                metrics.LAST_PASS.set_to_current_time()
                # A stop that came before this pass cleared the wake-up (during the start-up
                # takeover, say) would be lost in the sleep: with nothing planned, forever.
                if rest and not self._stopping:
                    await self.clock.sleep_until(self._next_wake(), self._wake)
        except EngineFailed:
            gave_up = True
            raise
        finally:
            self._running = False
            liveness.stopped(gave_up=gave_up)
            unsubscribe()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._stopped.set()

    async def _stage(self, name: str, work: Awaitable[None]) -> None:
        """Run one stage of a pass; an unexpected error costs this stage only."""
        try:
            await work
        except Exception as exc:
            if is_unavailable(exc):
                raise
            self._pass_failed = True
            metrics.LOOP_ERRORS.labels(name).inc()
            self.ctx.engine.failed(name, exc)

    def _give_up_if_failing_for_long(self) -> None:
        state = self.ctx.engine.snapshot()
        if state.failing_for_s is not None and (
            state.failing_for_s >= self.settings.give_up_after.total_seconds()
        ):
            message = (
                f"engine giving up: its passes have failed for {state.failing_for_s:.0f} s "
                f"({state.last_error}); exiting so that a supervisor restarts apicron"
            )
            log.critical(message)
            raise EngineFailed(message)

    async def _pass(self) -> bool:
        """One pass; returns whether the loop may sleep until the next wake-up (False:
        more is due at once, or something changed meanwhile)."""
        self.passes_begun += 1
        now = self.clock.now()
        woken, self._changed = self._changed, False
        self._wake.clear()
        due = self._firing.take_due(now)
        if due:
            await self._stage("fire", self._firing.fire(due, self._maintain_while_waiting))
        sending = self._firing.sending()
        if not sending:
            await self._stage("results", self._recorder.flush(now))
        if woken or self._next_queue_scan is None or now >= self._next_queue_scan:
            await self._stage("takeover", self._take_queued(now))
        full = False
        if woken or self._earliest is None or self._earliest <= now + self.settings.plan_lead:
            full = await self._plan(now)
        if not sending:
            await self._stage("maintenance", self._maintain(now))
        metrics.QUEUE_DEPTH.set(self._firing.depth)
        return not (full or self._wake.is_set())

    async def _maintain(self, now: datetime) -> None:
        await self._maintenance.run(now)

    async def _maintain_while_waiting(self, now: datetime) -> None:
        """While every call slot is taken (slow backends can hold them for minutes): the
        leases are renewed, and the loop is alive."""
        await self._maintenance.run(now)
        if not self._pass_failed:
            self.ctx.engine.alive(self.clock.now())

    async def _plan(self, now: datetime) -> bool:
        started = asyncio.get_running_loop().time()
        circumstances = self._circumstances()
        full = False

        async def plan() -> None:
            nonlocal full
            result = await self._db.write(
                lambda q: self._planner.plan(q, now, circumstances)
            )
            announce(result.alerts)
            self._earliest = result.earliest
            full = result.full
            for item in result.planned:
                self._firing.schedule(item)

        await self._stage("plan", plan())
        metrics.CLAIM_DURATION.observe(asyncio.get_running_loop().time() - started)
        return full

    async def _take_queued(self, now: datetime, *, startup: bool = False) -> None:
        self._next_queue_scan = now + self.settings.queue_scan_every
        foreign = self._foreign_after is None or now >= self._foreign_after
        await self._takeover.take_queued(
            now, all_foreign=startup and self.settings.take_over_on_start, foreign=foreign
        )

    def _next_wake(self) -> datetime | None:
        lead = self.settings.plan_lead
        candidates = [
            self._next_queue_scan,
            self._maintenance.next_prune,
            self._maintenance.next_lease_renewal,
            self._firing.next_due,
            self._earliest - lead if self._earliest else None,
        ]
        return min((c for c in candidates if c is not None), default=None)

    # -- database outages ------------------------------------------------------------------

    async def _database_unavailable(self, exc: BaseException) -> None:
        """Nothing is fired without its fence: planned executions wait in memory (and are
        decided by the misfire rule if the outage outlasts the grace), results wait in
        the writer. The loop itself is alive meanwhile."""
        self.ctx.health.failed(exc, source="engine")
        now = self.clock.now()
        if self._database_lost is None:
            self._database_lost = now
            self._outage = (now, None)
        self.ctx.engine.alive(now)
        await self.clock.sleep_until(now + self.settings.retry_every, self._wake)

    def _database_back(self) -> None:
        if self._database_lost is not None:
            now = self.clock.now()
            self._outage = (self._database_lost, now)
            self._database_lost = None
            self._foreign_after = now + self.settings.recovery_grace
        self.ctx.health.succeeded(source="engine")

    # -- results ---------------------------------------------------------------------------

    async def _write_results_soon(self) -> None:
        """Write results shortly after they appear, in batches (real time, not the
        engine clock: it is I/O pacing, not scheduling)."""
        while True:
            await self._results_ready.wait()
            await asyncio.sleep(0.02)
            quiet = self._firing.quiet_for()
            if quiet > 0:
                await asyncio.sleep(quiet)
            self._results_ready.clear()
            try:
                await self._recorder.flush(self.clock.now())
            except Exception as exc:
                if is_unavailable(exc):
                    # Kept in the writer; the main loop reports the outage and retries.
                    self.ctx.health.failed(exc, source="engine")
                else:
                    metrics.LOOP_ERRORS.labels("results").inc()
                    log.error("writing results failed (%s); retrying", describe(exc))
                await asyncio.sleep(self.settings.retry_every.total_seconds())
                self._results_ready.set()

    # -- stopping --------------------------------------------------------------------------

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop planning; let calls in flight finish (up to ``grace_seconds``), record them.

        What does not finish in time stays RUNNING in the store and is resumed by the next
        start (or another node), like after a crash.
        """
        self._stopping = True
        self._wake.set()
        self._firing.stop()
        if self._loop is not None:
            await self._stopped.wait()
        await self._firing.drain(grace_seconds)
        try:
            await self._recorder.flush(self.clock.now())
            handed = await self._db.write(
                lambda q: q.release_node_work(self.settings.node_id)
            )
            if handed:
                log.info("handed back %d unfinished executions to the other nodes", handed)
        except Exception as exc:
            # Said, not raised: a stop must complete (the process is exiting).
            log.error("could not record the last results or hand back work (%s); other "
                      "nodes take it over when its leases expire", describe(exc))
        finally:
            self._db.close()


def watch(engine_run: asyncio.Task[None], on_failure: Callable[[BaseException], None]) -> None:
    """Call ``on_failure`` if the engine's task ends with an error (not on a clean stop)."""

    def done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            on_failure(task.exception())  # type: ignore[arg-type]

    engine_run.add_done_callback(done)
