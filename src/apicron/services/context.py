"""What every service needs: the store, the secret box and a clock tests can drive."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apicron.crypto import SecretBox
from apicron.services.changes import ChangeFeed
from apicron.store.store import Queries, Store

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Context:
    store: Store
    secrets: SecretBox
    gateway_url: str
    clock: Clock = field(default=system_clock)
    changes: ChangeFeed = field(default_factory=ChangeFeed)

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def changing(self) -> Iterator[Queries]:
        """A write transaction changing configuration the gateway and engine cache; both
        see it once it is committed."""
        with self.store.write() as q:
            yield q
        self.changes.bump()

    @contextmanager
    def scheduling(self) -> Iterator[Queries]:
        """A write transaction changing only what fires when (tasks, manual runs): the
        engine is woken at once, the gateway's snapshot stays valid."""
        with self.store.write() as q:
            yield q
        self.changes.notify()
