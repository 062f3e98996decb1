"""Whether this process can reach and write its database, and whether its engine loop
lives; each told in the log once per change of state.

Every part that writes to the database (engine, heartbeat) reports here, under its own
name: the database counts as failing while any of them fails, so a write that keeps
failing (a full disk) is not hidden by another that still succeeds (a heartbeat updating
a row in place). Parts that only try now and then (an API request, the gateway learning a
key, a probe) report failures under ``"probe"``, which the next success of any writer
clears. ``/readyz`` and ``/livez`` read these (see :mod:`apicron.services.probes`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger("apicron.database")
engine_log = logging.getLogger("apicron.engine")


def describe(exc: BaseException) -> str:
    """The first line of the driver's message: enough to act on, no SQL, no parameters."""
    cause = exc.__cause__ or exc
    text = str(getattr(cause, "orig", None) or cause).strip().splitlines()
    return (text[0] if text else type(cause).__name__)[:300]


class DatabaseHealth:
    # A success this soon after a failure does not count as "back": while a server shuts
    # down or starts, some calls get through between failures, and one outage must read as
    # one outage in the log.
    SETTLE_SECONDS = 1.0

    def __init__(self) -> None:
        self._failing: dict[str, str] = {}  # source -> what failed
        self._since = time.monotonic()
        self._last_failure = 0.0
        self._lock = threading.Lock()

    @property
    def ok(self) -> bool:
        return not self._failing

    @property
    def problem(self) -> str | None:
        """What is failing now, e.g. ``"engine: database or disk is full"``; None if ok."""
        with self._lock:
            return "; ".join(f"{s}: {m}" for s, m in sorted(self._failing.items())) or None

    def succeeded(self, source: str = "heartbeat") -> None:
        """``source`` wrote to the database just now."""
        with self._lock:
            now = time.monotonic()
            if not self._failing or now - self._last_failure < self.SETTLE_SECONDS:
                return
            self._failing.pop(source, None)
            self._failing.pop("probe", None)
            if self._failing:
                return
            down_for = now - self._since
            self._since = now
        log.warning("database reachable again after %.1f s; resuming", down_for)

    def failed(self, exc: BaseException, source: str = "probe") -> None:
        """``source`` could not reach or write the database (an outage, not a bug)."""
        with self._lock:
            self._last_failure = time.monotonic()
            was_ok = not self._failing
            self._failing[source] = describe(exc)
            if not was_ok:
                return
            self._since = self._last_failure
        log.error(
            "database unreachable (%s); work in hand is kept and retried until it is back",
            describe(exc),
        )


@dataclass(frozen=True)
class EngineState:
    """The engine as ``/livez`` and ``/healthz`` report it."""

    state: str
    """``off`` (this process runs no engine), ``running``, ``failing``, ``stopped`` or
    ``failed`` (it gave up: the process is exiting)."""
    last_pass_at: datetime | None
    seconds_since_pass: float | None
    failing_for_s: float | None
    last_error: str | None
    live: bool


class EngineLiveness:
    """The engine loop's pulse: when it last completed a pass, and whether its passes
    fail. Written from the engine's event loop, read from any thread.

    A pass completes at least every few seconds (the engine wakes to look for orphans and
    renew leases even when nothing is due), also while it waits out a database outage or
    for a free call slot; a pass that raised does not count.
    """

    def __init__(self, stale_after_s: float = 30.0) -> None:
        self.stale_after_s = stale_after_s
        """A loop whose last completed pass is older than this is not live."""
        self._state = "off"
        self._last_pass = 0.0
        self._last_pass_at: datetime | None = None
        self._failing_since: float | None = None
        self._failures = 0
        self._last_error: str | None = None

    def started(self, now: datetime) -> None:
        self._state = "running"
        self.alive(now)

    def alive(self, now: datetime) -> None:
        """A pass completed (or the loop is alive and waiting, not failing)."""
        self._last_pass = time.monotonic()
        self._last_pass_at = now
        if self._failing_since is not None:
            failed_for = self._last_pass - self._failing_since
            engine_log.warning("engine passes complete again after %.1f s (%d failed)",
                               failed_for, self._failures)
            self._failing_since = None
            self._failures = 0
            if self._state == "failing":
                self._state = "running"

    def failed(self, stage: str, exc: BaseException) -> float:
        """A stage of a pass raised an unexpected error; returns how long passes have
        been failing. The first failure of a run of them is logged with its traceback."""
        now = time.monotonic()
        self._failures += 1
        self._last_error = f"{stage}: {type(exc).__name__}: {describe(exc)}"
        if self._failing_since is None:
            self._failing_since = now
            self._state = "failing"
            engine_log.error("engine pass failed in %s; retrying (one line per run of "
                             "failures)", stage, exc_info=exc)
        return now - self._failing_since

    def stopped(self, *, gave_up: bool = False) -> None:
        self._state = "failed" if gave_up else "stopped"

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def snapshot(self) -> EngineState:
        now = time.monotonic()
        since = now - self._last_pass if self._last_pass_at is not None else None
        failing_for = now - self._failing_since if self._failing_since is not None else None
        state = self._state
        live = state in ("off", "stopped") or (
            state in ("running", "failing")
            and since is not None and since < self.stale_after_s
        )
        return EngineState(
            state=state,
            last_pass_at=self._last_pass_at,
            seconds_since_pass=None if since is None else round(since, 3),
            failing_for_s=None if failing_for is None else round(failing_for, 3),
            last_error=self._last_error if state in ("failing", "failed") else None,
            live=live,
        )
