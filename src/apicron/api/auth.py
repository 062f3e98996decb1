"""Bearer-token auth for the management API (everything but /healthz)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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
