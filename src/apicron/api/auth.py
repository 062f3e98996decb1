"""Bearer-token auth for the management API (everything but the probes and the console)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from apicron.api.errors import error_response
from apicron.domain.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="The admin token (APICRON_ADMIN_TOKEN)")


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    if credentials is None:
        raise Unauthorized("missing 'Authorization: Bearer <admin token>' header")
    expected: str = request.app.state.admin_token
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise Unauthorized("the bearer token is not the admin token")


_PROTECTED_PREFIXES = ("/v1/", "/metrics")


class TokenGate:
    """The same check as :func:`require_token`, made before anything reads the body.

    FastAPI decodes and validates a JSON body before it runs a route's dependencies, so
    without this a caller with no token would learn whether its body was valid (400) and
    could make the server parse 4 MiB of JSON for nothing; with it, every path under
    ``/v1/`` (and ``/metrics``) answers 401 first.
    """

    def __init__(self, app: ASGIApp, admin_token: str):
        self.app = app
        self.expected = admin_token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(_PROTECTED_PREFIXES):
            problem = self._problem(dict(scope.get("headers", [])).get(b"authorization"))
            if problem is not None:
                response = error_response(401, Unauthorized.code, problem)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _problem(self, header: bytes | None) -> str | None:
        scheme, _, credentials = (header or b"").strip().partition(b" ")
        if header is None or scheme.lower() != b"bearer" or not credentials.strip():
            return "missing 'Authorization: Bearer <admin token>' header"
        if not hmac.compare_digest(credentials.strip(), self.expected):
            return "the bearer token is not the admin token"
        return None
