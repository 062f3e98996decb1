"""What every service needs: the store, the secret box and a clock tests can drive."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apicron.crypto import SecretBox
from apicron.outbound import OutboundPolicy
from apicron.services.changes import ChangeFeed
from apicron.services.health import DatabaseHealth, EngineLiveness
from apicron.store.store import Queries, Store

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def default_node_id() -> str:
    """Unique per process, readable in ``apicron nodes`` and in executions' claimed_by."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{new_id()[:6]}"


@dataclass(frozen=True)
class Context:
    store: Store
    secrets: SecretBox
    gateway_url: str
    clock: Clock = field(default=system_clock)
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    node_id: str = field(default_factory=default_node_id)
    role: str = "all"
    health: DatabaseHealth = field(default_factory=DatabaseHealth)
    engine: EngineLiveness = field(default_factory=EngineLiveness)
    """This process's engine loop, as /livez reports it ("off" where none runs)."""
    public_url: str = ""
    """Where users reach the management API and console (links in alerts, issue 14)."""
    alert_timeout_s: float = 10.0
    """One alert delivery's bound (a channel test's too)."""
    outbound: OutboundPolicy | None = None
    """Where webhooks may connect (default: the built-in deny list)."""

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def changing(self) -> Iterator[Queries]:
        """A write transaction changing configuration the gateway and engine cache; both
        see it once it is committed (other processes through the change counter)."""
        with self.store.write() as q:
            q.bump_counter("config")
            yield q
        self.changes.bump()

    @contextmanager
    def scheduling(self) -> Iterator[Queries]:
        """A write transaction changing only what fires when (tasks, manual runs): the
        engine is woken at once, the gateway's snapshot stays valid."""
        with self.store.write() as q:
            q.bump_counter("schedule")
            yield q
        self.changes.notify()
