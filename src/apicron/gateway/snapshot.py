"""What the gateway knows, as one immutable value, and the cache that keeps it current.

A :class:`GatewaySnapshot` is built from the store in one read transaction: the published
API snapshots (never the drafts) as route tables, every group's domain, the grants, every
app's key and *encrypted* secret, and the instance parameters. It never changes after it is
built; a request works on the snapshot it started with.

Secrets are decrypted lazily, once per snapshot and app, when that app first authenticates:
a rebuild (after every publish, grant, secret reset…) then costs one read of the tables and
no decryption, and only the secrets of apps that actually call are ever held in clear.

:class:`SnapshotCache` rebuilds in a worker thread when ``ctx.changes.version`` has moved,
checked at the start of each request, so a change committed by this process is served on the
very next request. One rebuild runs at a time; requests arriving meanwhile wait for it.

App creation is the one change that need not bump the version (a new app can call nothing
until a publish or a grant, which do). When a caller presents a key the snapshot does not
hold, :meth:`SnapshotCache.learn_key` looks that one key up and rebuilds if it exists, so a
just-created app is answered for what it is (403 without a grant, not 401). Keys found
absent are remembered until the next change, so a caller repeating a wrong key costs no
query.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from apicron.crypto import SecretUnreadable
from apicron.domain.models import InstanceParams, PublishedApi
from apicron.gateway.errors import GatewayError
from apicron.gateway.routing import RouteTable
from apicron.services.context import Context
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.gateway")

# Bounds the memory a caller spraying random keys can make the cache hold.
_MAX_ABSENT_KEYS = 10_000


@dataclass(frozen=True)
class AppCredential:
    app_id: str
    name: str
    key: str
    secret_encrypted: str = field(repr=False)


@dataclass(frozen=True, eq=False)
class GatewaySnapshot:
    version: int
    params: InstanceParams
    routes: RouteTable
    """Every published API: what a request to the gateway's own address is routed by."""
    routes_by_domain: Mapping[str, RouteTable]
    """Each group's domain (lower case) and its published APIs; empty tables included."""
    grants: frozenset[tuple[str, str]]
    """``(app_id, api_id)`` pairs."""
    apps_by_key: Mapping[str, AppCredential]
    apps_by_id: Mapping[str, AppCredential]
    apis_by_id: Mapping[str, PublishedApi]
    """Every published API snapshot by API id (the scheduler's way in)."""
    decrypt: Callable[[str], str] = field(repr=False)
    _secrets: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _unreadable: set[str] = field(default_factory=set, init=False, repr=False)

    def secret_of(self, app: AppCredential) -> str:
        """The app's secret in clear, decrypted on first use (a benign race at worst).

        Raises a 500 ``CREDENTIAL_UNREADABLE`` :class:`GatewayError` (kind ``CONFIG``) when
        no configured key decrypts it, logged once per snapshot and app.
        """
        secret = self._secrets.get(app.app_id)
        if secret is None:
            if app.app_id in self._unreadable:
                raise _unreadable()
            try:
                secret = self.decrypt(app.secret_encrypted)
            except SecretUnreadable:
                self._unreadable.add(app.app_id)
                log.error(
                    "the stored secret of app %r (id %s) cannot be decrypted with "
                    "APICRON_SECRET_KEY: its calls fail until the key it was encrypted with "
                    "is configured again; then run `apicron secret-key rotate`",
                    app.name, app.app_id,
                )
                raise _unreadable() from None
            self._secrets[app.app_id] = secret
        return secret

    def may_call(self, app_id: str, api: PublishedApi) -> bool:
        """The app owns the API (through its group) or holds a grant for it."""
        return api.app_id == app_id or (app_id, api.id) in self.grants


def _unreadable() -> GatewayError:
    return GatewayError(
        500, "CREDENTIAL_UNREADABLE",
        "the stored secret of this app cannot be decrypted with APICRON_SECRET_KEY (the key "
        "it was encrypted with is no longer configured); an operator must configure that key "
        "again (see the gateway log)",
        kind="CONFIG",
    )


def build_snapshot(ctx: Context, version: int) -> GatewaySnapshot:
    """Read the store (blocking: run it in a worker thread from async code)."""
    with ctx.store.read() as q:
        params = q.get_instance(ctx.gateway_url).params
        published = q.list_published_apis_with_domain()
        domains = q.list_group_domains()
        grants = q.list_grant_pairs()
        credentials = q.list_app_credentials()
    apps = [AppCredential(app_id, name, key, secret) for app_id, name, key, secret in credentials]
    by_domain: dict[str, list[PublishedApi]] = {domain.lower(): [] for domain in domains}
    for api, domain in published:
        by_domain.setdefault(domain.lower(), []).append(api)
    return GatewaySnapshot(
        version=version,
        params=params,
        routes=RouteTable(api for api, _ in published),
        routes_by_domain={domain: RouteTable(apis) for domain, apis in by_domain.items()},
        grants=frozenset(grants),
        apps_by_key={app.key: app for app in apps},
        apps_by_id={app.app_id: app for app in apps},
        apis_by_id={api.id: api for api, _ in published},
        decrypt=ctx.secrets.decrypt,
    )


class SnapshotCache:
    """The current snapshot of one process; use it from one event loop."""

    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._snapshot: GatewaySnapshot | None = None
        self._lock = asyncio.Lock()
        self._absent_keys: set[str] = set()
        self._absent_version = -1
        self._retry_after = 0.0

    async def current(self) -> GatewaySnapshot:
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == self._ctx.changes.version:
            return snapshot
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.version != self._ctx.changes.version:
                snapshot = await self._rebuild()
            return snapshot

    async def learn_key(self, key: str) -> GatewaySnapshot | None:
        """A fresher snapshot holding ``key`` if an app has it now, else ``None``."""
        version = self._ctx.changes.version
        if self._absent_version != version:
            self._absent_keys.clear()
            self._absent_version = version
        if key in self._absent_keys:
            return None
        exists = await asyncio.to_thread(self._key_exists, key)
        if not exists:
            if len(self._absent_keys) >= _MAX_ABSENT_KEYS:
                self._absent_keys.clear()
            self._absent_keys.add(key)
            return None
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is None or key not in snapshot.apps_by_key:
                snapshot = await self._rebuild()
        return snapshot if key in snapshot.apps_by_key else None

    async def _rebuild(self) -> GatewaySnapshot:
        # The version is read before the tables: a change committed during the build leaves
        # the snapshot one version behind, so the next request rebuilds again.
        version = self._ctx.changes.version
        previous = self._snapshot
        now = time.monotonic()
        if previous is not None and now < self._retry_after:
            return previous
        try:
            snapshot = await asyncio.to_thread(build_snapshot, self._ctx, version)
        except Exception as exc:
            if previous is None or not is_unavailable(exc):
                raise
            # The database is unreachable: keep routing with the last snapshot (the
            # configuration it holds was committed) and try again in a second, not on
            # every request.
            self._ctx.health.failed(exc)
            self._retry_after = now + 1.0
            return previous
        self._snapshot = snapshot
        return snapshot

    def _key_exists(self, key: str) -> bool:
        with self._ctx.store.read() as q:
            return q.app_key_exists(key)
