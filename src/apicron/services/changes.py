"""A change counter that lets in-process caches (gateway routes, credentials) go stale.

Services bump it after committing a change that a cache depends on; a cache remembers the
version it was built at and rebuilds when the counter has moved, so a publish, a revoke or
a secret reset takes effect on the very next gateway request. (Several processes need the
database to carry the signal; that is the multi-node issue's job.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class ChangeFeed:
    def __init__(self) -> None:
        self._version = 0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    @property
    def version(self) -> int:
        return self._version

    def bump(self) -> None:
        """Configuration changed (apps, APIs, grants, instance): caches go stale."""
        with self._lock:
            self._version += 1
        self.notify()

    def notify(self) -> None:
        """Only the schedule changed (tasks, runs): wake listeners, keep caches."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from the committing thread) after each bump or notify;
        returns the function that unsubscribes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.remove(listener)

        return unsubscribe
