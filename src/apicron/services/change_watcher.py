"""Changes made by other processes, brought into this one's ChangeFeed.

Every change is counted in the database (``change_counters``, bumped in the changing
transaction). This watcher reads the counters and, when one moved, bumps or notifies the
local feed: the gateway's snapshot goes stale, the engine wakes. On PostgreSQL it also
LISTENs, so it reads the moment a change commits; the polling is the fallback for a
notification lost with a dropped connection, and the only signal on SQLite (several
processes on one file).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from apicron.services.context import Context
from apicron.store.database import is_unavailable
from apicron.store.node_queries import CHANNEL

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("apicron.changes")


class ChangeWatcher:
    def __init__(self, ctx: Context, poll_seconds: float = 0.5):
        self._ctx = ctx
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="apicron-changes", daemon=True)
        self._seen: dict[str, int] | None = None
        self._listener: psycopg.Connection[Any] | None = None
        url = ctx.store.engine.url
        self._dsn = (
            url.set(drivername="postgresql").render_as_string(hide_password=False)
            if url.get_backend_name() == "postgresql"
            else None
        )
        # psycopg (the [postgres] extra) is imported on PostgreSQL only: SQLite needs none.
        self._driver_errors: tuple[type[Exception], ...] = ()
        if self._dsn is not None:
            import psycopg

            self._driver_errors = (psycopg.Error,)

    def start(self) -> ChangeWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._poll + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._check()
                self._wait()
            except Exception as exc:
                if not (is_unavailable(exc) or isinstance(exc, self._driver_errors)):
                    log.exception("change watcher failed; retrying")
                self._close_listener()
                self._stop.wait(1.0)
        self._close_listener()

    def _check(self) -> None:
        with self._ctx.store.read() as q:
            counters = q.read_counters()
        seen, self._seen = self._seen, counters
        if seen is None or seen == counters:
            return
        if counters.get("config") != seen.get("config"):
            self._ctx.changes.bump()
        else:
            self._ctx.changes.notify()

    def _wait(self) -> None:
        if self._dsn is None:
            self._stop.wait(self._poll)
            return
        if self._listener is None:
            import psycopg

            self._listener = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            self._listener.execute(f"LISTEN {CHANNEL}")
            return  # counters are read again at once: nothing committed meanwhile is missed
        # Returns at the first notification, or after the poll interval without one.
        for _ in self._listener.notifies(timeout=self._poll, stop_after=1):
            pass

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(*self._driver_errors):
                self._listener.close()
            self._listener = None
