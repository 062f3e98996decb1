"""Whether this process can reach its database, told once per change of state.

Every part that talks to the database (engine, heartbeat, change watcher, /healthz)
reports here; the log gets one line when the database goes away and one when it is back,
never one per failed attempt.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("apicron.database")


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
        self._ok = True
        self._since = time.monotonic()
        self._last_failure = 0.0
        self._lock = threading.Lock()

    @property
    def ok(self) -> bool:
        return self._ok

    def succeeded(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._ok or now - self._last_failure < self.SETTLE_SECONDS:
                return
            self._ok = True
            down_for = now - self._since
            self._since = now
        log.warning("database reachable again after %.1f s; resuming", down_for)

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._last_failure = time.monotonic()
            if not self._ok:
                return
            self._ok = False
            self._since = self._last_failure
        log.error(
            "database unreachable (%s); work in hand is kept and retried until it is back",
            describe(exc),
        )
