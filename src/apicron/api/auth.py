"""Bearer-token auth for the management API (everything but the probes and the console).

:class:`TokenGate` finds who a request is (the admin token: root; a user's API token: that
user, with the token's role) before anything reads the body, and leaves the
:class:`~apicron.domain.access.Actor` in the request's state, where the routes' context
(``apicron.api.routes.common.context``) picks it up. A contextvar would not do: FastAPI
runs sync routes and dependencies in worker threads with a copy of the context.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from apicron.api.errors import error_response
from apicron.domain.access import Actor
from apicron.domain.errors import Unauthorized
from apicron.services.authentication import SignInRefused, TooManyAttempts, authenticate_bearer
from apicron.services.context import Context
from apicron.store.database import is_unavailable

bearer = HTTPBearer(
    auto_error=False,
    description="A user's API token (apc_…), or the admin token (APICRON_ADMIN_TOKEN): root",
)
MISSING = "missing 'Authorization: Bearer <token>' header (an API token, or the admin token)"


def actor_of(request: Request) -> Actor | None:
    """The actor :class:`TokenGate` found for this request (None: it did not run)."""
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, Actor) else None


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Every protected route's dependency: it declares the bearer scheme in the OpenAPI
    document, and refuses a request :class:`TokenGate` has not authenticated."""
    if credentials is None or actor_of(request) is None:
        raise Unauthorized(MISSING)


_PROTECTED_PREFIXES = ("/v1/", "/metrics")


class TokenGate:
    """Authenticates every request under ``/v1/`` (and ``/metrics``) before anything reads
    its body.

    FastAPI decodes and validates a JSON body before it runs a route's dependencies, so
    without this a caller with no token would learn whether its body was valid (400) and
    could make the server parse 4 MiB of JSON for nothing; with it, every such path
    answers 401 (or 429 while the address is locked out) first.
    """

    def __init__(self, app: ASGIApp, ctx: Context, admin_token: str):
        self.app = app
        self.ctx = ctx
        self.admin_token = admin_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(_PROTECTED_PREFIXES):
            header = dict(scope.get("headers", [])).get(b"authorization")
            scheme, _, credentials = (header or b"").strip().partition(b" ")
            if header is None or scheme.lower() != b"bearer" or not credentials.strip():
                await error_response(401, Unauthorized.code, MISSING)(scope, receive, send)
                return
            client = scope.get("client")
            address = str(client[0])[:64] if client else None
            presented = credentials.strip().decode("latin-1")
            try:
                actor = await asyncio.to_thread(
                    authenticate_bearer, self.ctx, presented, self.admin_token, address
                )
            except SignInRefused as refused:
                if refused.delay_s:
                    await asyncio.sleep(refused.delay_s)
                await error_response(401, refused.code, refused.message)(scope, receive, send)
                return
            except TooManyAttempts as locked:
                response = error_response(429, locked.code, locked.message,
                                          headers={"Retry-After": str(locked.retry_after_s)})
                await response(scope, receive, send)
                return
            except Unauthorized as refused:
                await error_response(401, refused.code, refused.message)(scope, receive, send)
                return
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self.ctx.health.failed(exc)
                response = error_response(
                    503, "DATABASE_UNAVAILABLE",
                    "the database is unreachable; nothing was changed, retry shortly",
                    headers={"Retry-After": "2"},
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)
