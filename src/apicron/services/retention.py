"""What the management API's nodes prune in the background: audit entries past their
retention, ended console sessions, stale sign-in failure counters, and API tokens 30 days
after they expired (kept that long so their owners see why they stopped working)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from apicron.services.context import Context
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.retention")

PRUNE_EVERY = timedelta(minutes=10)
EXPIRED_TOKENS_KEPT = timedelta(days=30)


def prune_once(ctx: Context) -> dict[str, int]:
    """One pass; answers how many rows of each kind went."""
    now, policy = ctx.now(), ctx.access
    with ctx.store.write() as q:
        return {
            "audit": q.prune_audit(now - policy.audit_retention),
            "sessions": q.prune_sessions(now, now - policy.session_idle),
            "failures": q.prune_failures(now, now - policy.login_window),
            "tokens": q.prune_tokens(now - EXPIRED_TOKENS_KEPT),
        }


class Retention:
    """Runs :func:`prune_once` every ``PRUNE_EVERY`` while the process serves."""

    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Retention:
        self._task = asyncio.create_task(self._loop(), name="apicron-retention")
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        while True:
            try:
                removed = await asyncio.to_thread(prune_once, self._ctx)
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("pruning the audit log and sessions failed")
            else:
                if removed["audit"]:
                    log.info("pruned %d audit entries past their retention", removed["audit"])
            await asyncio.sleep(PRUNE_EVERY.total_seconds())
