"""The alert sender: delivers the outbox, and watches for tasks silent too long (issue 14).

It runs on every engine node (roles ``all`` and ``scheduler``) in a thread of its own, with
its own event loop, its own database thread and its own HTTP session, so that nothing a
channel does (hang, refuse, crawl) reaches the engine's loop: firing never waits for an
alert. Each pass:

1. *claim* due events (a lease of a few delivery timeouts; ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL: one node delivers an event), at most as many as there are free delivery
   slots, and deliver each in its own task (:mod:`apicron.alerts.delivery`, every delivery
   bounded by the timeout). The outcome is written only while this node still holds the
   event. A failed delivery is retried with exponential backoff and jitter (5 s, 10 s, …,
   capped at 15 min) up to ``max_attempts``, then recorded FAILED with its last error.
   A sender killed mid-delivery leaves its events claimed: another node takes them when
   their lease expires, a restarted single node (SQLite) at once. Delivery is therefore
   at least once; the event id (``X-Apicron-Event-Id``) lets receivers drop a repeat;
2. every ``silence_every_s``, the dead-man rule (:func:`apicron.alerts.outbox.
   check_silent_tasks`), on every node, decided under each task's lock so one node writes
   each NO_SUCCESS event: a node that stopped (frozen, killed) is covered by the others;
3. the gauge of tasks currently alerting, and pruning of old delivered events.

It sleeps until the next poll (``poll_every_s``) or until this process commits new events
(:func:`apicron.alerts.outbox.on_new_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from apicron.alerts import metrics
from apicron.alerts.delivery import Delivered, Deliverer, Destination, message_of
from apicron.alerts.outbox import Recorded, announce, check_silent_tasks, on_new_events
from apicron.crypto import SecretUnreadable
from apicron.gateway.addresses import OutboundPolicy
from apicron.gateway.proxy import backend_session
from apicron.services.context import Context
from apicron.services.health import describe
from apicron.store.database import is_unavailable
from apicron.store.records import AlertDeliveryResult, ClaimedAlertEvent
from apicron.store.store import Queries

log = logging.getLogger("apicron.alerts")

T = TypeVar("T")


@dataclass(frozen=True)
class SenderSettings:
    node_id: str
    public_url: str = "http://127.0.0.1:8080"
    timeout_s: float = 10.0
    """One delivery's bound (Apprise: each socket wait)."""
    max_attempts: int = 10
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 900.0
    poll_every_s: float = 0.5
    concurrency: int = 32
    silence_every_s: float = 5.0
    prune_every_s: float = 600.0
    keep_days: int = 30
    take_over_on_start: bool = False
    """Single-node (SQLite): on start, events another (dead) node held are taken at once."""

    @property
    def lease(self) -> timedelta:
        # Longer than any delivery (Apprise's bound is twice the timeout plus a second).
        return timedelta(seconds=self.timeout_s * 3 + 5)

    def backoff(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after failed attempt number ``attempts``: exponential, full jitter in
        its upper half (never 0: a broken channel must not be hammered)."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempts - 1))
        return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))


def _silent(q: Queries, *, now: datetime) -> Recorded:
    return check_silent_tasks(q, now)


def _prune(q: Queries, *, older_than: datetime) -> int:
    return q.prune_alert_events(older_than)


class AlertSender:
    def __init__(
        self, ctx: Context, settings: SenderSettings, outbound: OutboundPolicy | None = None
    ):
        self.ctx = ctx
        self.settings = settings
        self._outbound = outbound
        self._rng = random.Random()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._ready = threading.Event()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apicron-alerts-db")
        self._inflight: set[asyncio.Task[None]] = set()
        self._undo_listener: Callable[[], None] | None = None
        self._failing_since: datetime | None = None
        self.passes = 0
        """Passes completed (tests wait on it)."""
        self.delivered = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> AlertSender:
        self._thread = threading.Thread(target=self._run, name="apicron-alerts", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self._undo_listener = on_new_events(self.wake)
        log.info("alert sender started on node %s", self.settings.node_id)
        return self

    def wake(self) -> None:
        """Thread-safe: look at the outbox now."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    def stop(self, grace_seconds: float = 5.0) -> None:
        """Let deliveries in flight finish (up to ``grace_seconds``), hand back the rest."""
        if self._undo_listener is not None:
            self._undo_listener()
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(grace_seconds + self.settings.timeout_s + 5)
        self._db.shutdown(wait=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._ready.set()
        async with backend_session(outbound=self._outbound) as session:
            deliverer = Deliverer(session, self.settings.timeout_s)
            try:
                await self._loop_until_stopped(deliverer)
            finally:
                if self._inflight:
                    await asyncio.wait(set(self._inflight), timeout=5)
                for task in self._inflight:
                    task.cancel()
                deliverer.close()
                with contextlib.suppress(Exception):
                    node = self.settings.node_id
                    handed = await self._write(lambda q: q.release_alert_events(node))
                    if handed:
                        log.info("handed back %d undelivered alert events", handed)

    async def _loop_until_stopped(self, deliverer: Deliverer) -> None:
        s = self.settings
        first = True
        next_silence = next_prune = next_gauge = self.ctx.now()
        while not self._stopping:
            assert self._wake is not None
            self._wake.clear()
            now = self.ctx.now()
            try:
                if now >= next_silence:
                    next_silence = now + timedelta(seconds=s.silence_every_s)
                    announce(await self._write(functools.partial(_silent, now=now)))
                if now >= next_gauge:
                    next_gauge = now + timedelta(seconds=5)
                    metrics.TASKS_ALERTING.set(await self._read(lambda q: q.count_alerting()))
                if now >= next_prune:
                    next_prune = now + timedelta(seconds=s.prune_every_s)
                    older = now - timedelta(days=s.keep_days)
                    await self._write(functools.partial(_prune, older_than=older))
                await self._claim_and_deliver(deliverer, now, all_foreign=first
                                              and s.take_over_on_start)
                first = False
                self._healthy()
            except Exception as exc:
                self._failed(exc)
            self.passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), s.poll_every_s)

    def _healthy(self) -> None:
        if self._failing_since is not None:
            log.info("alert sender working again")
            self._failing_since = None

    def _failed(self, exc: Exception) -> None:
        # Said once per run of failures, not at every poll.
        if self._failing_since is None:
            self._failing_since = self.ctx.now()
            if is_unavailable(exc):
                log.warning("alert sender waiting for the database (%s)", describe(exc))
            else:
                log.error("alert sender pass failed (%s); retrying", describe(exc),
                          exc_info=exc)

    # -- database ----------------------------------------------------------------------------

    async def _write(self, fn: Callable[[Queries], T]) -> T:
        def work() -> T:
            with self.ctx.store.write() as q:
                return fn(q)

        return await asyncio.get_running_loop().run_in_executor(self._db, work)

    async def _read(self, fn: Callable[[Queries], T]) -> T:
        def work() -> T:
            with self.ctx.store.read() as q:
                return fn(q)

        return await asyncio.get_running_loop().run_in_executor(self._db, work)

    # -- delivering --------------------------------------------------------------------------

    async def _claim_and_deliver(self, deliverer: Deliverer, now: datetime, *,
                                 all_foreign: bool) -> None:
        s = self.settings
        free = s.concurrency - len(self._inflight)
        if free <= 0:
            return
        node, until = s.node_id, now + s.lease
        claimed = await self._write(
            lambda q: q.claim_alert_events(node, now, until, free, all_foreign=all_foreign))
        for event in claimed:
            task = asyncio.create_task(self._deliver(deliverer, event),
                                       name=f"alert-{event.id}")
            self._inflight.add(task)
            task.add_done_callback(self._delivery_done)

    def _delivery_done(self, task: asyncio.Task[None]) -> None:
        # A slot is free: claim the next events now, not at the next poll.
        self._inflight.discard(task)
        if self._wake is not None:
            self._wake.set()

    def _destination(self, event: ClaimedAlertEvent) -> Destination | str:
        if event.url_encrypted is None:
            return "the channel was deleted before delivery"
        try:
            url = self.ctx.secrets.decrypt(event.url_encrypted)
            secret = (None if event.secret_encrypted is None
                      else self.ctx.secrets.decrypt(event.secret_encrypted))
        except SecretUnreadable:
            return ("the channel's URL or secret cannot be decrypted with APICRON_SECRET_KEY "
                    "(see `apicron secret-key rotate`)")
        return Destination(event.channel_kind, url, secret)

    async def _deliver(self, deliverer: Deliverer, event: ClaimedAlertEvent) -> None:
        s = self.settings
        destination = self._destination(event)
        if isinstance(destination, str):
            delivered = Delivered(False, destination)
            final = True
        else:
            message = message_of(event.id, event.event, event.payload, s.public_url)
            try:
                delivered = await deliverer.deliver(destination, message)
            except Exception as exc:  # a bug of ours costs this attempt, said once
                log.error("delivering alert %s failed (%s)", event.id, describe(exc),
                          exc_info=exc)
                delivered = Delivered(False, f"internal error ({type(exc).__name__})")
            final = False
        attempts = event.attempts + 1
        at = self.ctx.now()
        retry = None
        if not delivered.ok and not final and attempts < s.max_attempts:
            retry = at + s.backoff(attempts, self._rng)
        result = AlertDeliveryResult(event.id, delivered.ok, attempts, at, delivered.error,
                                     retry)
        node = s.node_id
        try:
            recorded = await self._write(lambda q: q.finish_alert_deliveries(node, [result]))
        except Exception as exc:
            # Not recorded: the lease expires and the event is delivered again (same id).
            log.warning("could not record the delivery of alert %s (%s); it will be retried",
                        event.id, describe(exc))
            return
        if not recorded:
            return
        kind = event.channel_kind
        if delivered.ok:
            self.delivered += 1
            metrics.SENT.labels(kind).inc()
        else:
            metrics.DELIVERY_ERRORS.labels(kind).inc()
            if retry is None:
                metrics.FAILED.labels(kind).inc()
                log.warning("alert %s (%s, task %s) not delivered after %d attempt(s): %s",
                            event.id, event.event, event.task_name, attempts, delivered.error)
