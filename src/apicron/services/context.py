"""What every service needs: the store, the secret box and a clock tests can drive."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apicron.crypto import SecretBox
from apicron.domain.access import SYSTEM, Actor, Permission, require
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
class AccessPolicy:
    """The settings of sign-in and the audit log (``apicron.settings`` reads them).

    ``session_idle`` / ``session_max``: a console session ends after this long unused /
    this long after its login. ``login_max_failures`` failed sign-ins for one username or
    from one address within ``login_window`` lock it out for ``login_lockout``; past half
    of them each failure is answered ``login_slowdown_s`` seconds late. ``audit_retention``:
    audit entries older than this are pruned. ``admin_token_disabled``: the admin token is
    refused while an enabled admin user exists.
    """

    session_idle: timedelta = timedelta(hours=1)
    session_max: timedelta = timedelta(hours=12)
    login_max_failures: int = 10
    login_window: timedelta = timedelta(minutes=15)
    login_lockout: timedelta = timedelta(minutes=15)
    login_slowdown_s: float = 1.0
    audit_retention: timedelta = timedelta(days=365)
    admin_token_disabled: bool = False


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
    actor: Actor = SYSTEM
    """Who acts: apicron itself by default; the HTTP edges put the request's actor here
    (``dataclasses.replace(ctx, actor=…)``), starting from nobody."""
    access: AccessPolicy = field(default_factory=AccessPolicy)

    def require(self, permission: Permission) -> None:
        """Raise Forbidden (403, naming the role needed) unless the actor holds it."""
        require(self.actor, permission)
    public_url: str = ""
    """Where users reach the management API and console (links in alerts, issue 14)."""
    alert_timeout_s: float = 10.0
    """One alert delivery's bound (a channel test's too)."""
    outbound: OutboundPolicy | None = None
    """Where webhooks may connect (default: the built-in deny list)."""
    readiness_checks: dict[str, Callable[[], str | None]] = field(
        default_factory=dict, hash=False, compare=False
    )
    """Further checks of ``/readyz`` by name (the gateway workers): each returns what fails,
    or ``None`` when all is well."""

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
