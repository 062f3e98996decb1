"""What every router shares: the acting context, permissions, paging and documented
error answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from apicron.api.auth import actor_of
from apicron.api.errors import ErrorBody
from apicron.domain.access import ANONYMOUS, Permission, require
from apicron.services.context import Context


def context(request: Request) -> Context:
    """The services' context acting as the request's actor (nobody, if none was found)."""
    ctx: Context = request.app.state.ctx
    return replace(ctx, actor=actor_of(request) or ANONYMOUS)


Ctx = Annotated[Context, Depends(context)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="items to return (1-500)")]
NameFilter = Annotated[
    str | None, Query(max_length=64, description="case-insensitive substring of the name")
]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Invalid input: error_msg names the field and the rule; nothing changed"),
        (401, "Missing, wrong, expired or revoked token"),
        (403, "The caller's role may not do this: error_msg names the role needed"),
        (404, "Unknown id"),
        (409, "State or name conflict"),
        (413, "Request too large"),
        (415, "The body is not JSON: send it with Content-Type: application/json"),
        (429, "Too many failed sign-ins from this address: wait Retry-After seconds"),
    )
}

ROLE_EXTENSION = "x-apicron-role"
PERMISSION_EXTENSION = "x-apicron-permission"


def needs(permission: Permission, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A route's declaration of what it needs, as keyword arguments of its decorator:
    documented in the OpenAPI document (``x-apicron-role``, ``x-apicron-permission``) and
    checked before the body is read, so that a role that may not write hears 403 whatever
    it sends. The service the route calls checks the same permission again (the console
    and in-process callers reach the services without this route); the role × endpoint
    test fails for an operation that declares nothing. ``extra`` is the rest of the
    route's ``openapi_extra`` (e.g. :func:`apicron.api.openapi_docs.body_example`).
    """

    async def check(request: Request) -> None:
        require(actor_of(request) or ANONYMOUS, permission)

    return {
        "dependencies": [Depends(check)],
        "openapi_extra": {**(extra or {}), ROLE_EXTENSION: permission.role,
                          PERMISSION_EXTENSION: permission.label},
    }


def public(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The declaration of a route that needs no token at all (the probes); ``extra`` as
    for :func:`needs`."""
    return {"openapi_extra": {**(extra or {}), ROLE_EXTENSION: "none"}}
