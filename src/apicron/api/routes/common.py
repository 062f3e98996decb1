"""What every router shares: the service context, paging and documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from apicron.api.errors import ErrorBody
from apicron.services.context import Context


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


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
        (401, "Missing or wrong admin token"),
        (404, "Unknown id"),
        (409, "State or name conflict"),
        (413, "Request too large"),
        (415, "The body is not JSON: send it with Content-Type: application/json"),
    )
}
