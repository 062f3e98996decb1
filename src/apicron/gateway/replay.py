"""The replay guard: a signed request is accepted once, on every node of an instance.

While the instance parameter ``replay_guard`` is on, :func:`~apicron.gateway.auth.authorize`
reports each accepted signature (:class:`~apicron.gateway.auth.SignatureUse`) and the edge
calls :meth:`ReplayGuard.admit` before forwarding: the signature is inserted into the
store's ``seen_signatures`` (one row per signature, primary key), so a second arrival, on
this node or any other sharing the database, finds it and is refused with 401. A row is
kept until its request's X-Sdk-Date leaves the accepted window (15 minutes behind the
clock); rows past that are deleted at most once a minute, on the way.

Calls by app secret (``X-HW-ID`` / ``X-HW-AppKey``) carry no signature and are not
guarded: the secret itself is the credential, sent whole with every call (use TLS).
"""

from __future__ import annotations

import asyncio
import time

from apicron.gateway.auth import SignatureUse
from apicron.gateway.errors import unauthorized
from apicron.services.context import Context

_PRUNE_EVERY_S = 60.0


class ReplayGuard:
    """Remembers accepted signatures in the store; use from one event loop."""

    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._next_prune = 0.0

    async def admit(self, use: SignatureUse) -> None:
        """Record the signature; raise 401 ``GatewayError`` if it was recorded before.

        Database errors propagate (the edge answers 503 when it is unreachable).
        """
        if not await asyncio.to_thread(self._remember, use):
            raise unauthorized(
                "this signed request was already received (same signature) and the instance "
                "parameter replay_guard refuses replays: sign each request anew; two "
                "identical requests signed in the same second have the same signature, so "
                "add a header that tells them apart (e.g. X-Request-Id)"
            )

    def _remember(self, use: SignatureUse) -> bool:
        prune = time.monotonic() >= self._next_prune
        with self._ctx.store.write() as q:
            if prune:
                q.forget_signatures(self._ctx.now())
            fresh = q.remember_signature(use.signature, use.expires_at)
        if prune:
            self._next_prune = time.monotonic() + _PRUNE_EVERY_S
        return fresh
