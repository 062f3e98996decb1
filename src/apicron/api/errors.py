"""The one place where errors become HTTP: ``{"error_code", "error_msg", "field", "errors"}``
and a status. ``field`` is the first wrong field, ``errors`` lists every one with its rule."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from apicron.domain.errors import ApicronError, InvalidInput, Problem
from apicron.domain.validation import invalid_input
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.api")


class FieldError(BaseModel):
    field: str = Field(description="the field, e.g. request.headers[0].name")
    message: str = Field(description="the rule it broke")


class ErrorBody(BaseModel):
    error_code: str
    error_msg: str = Field(description="every problem, each as 'field: rule', joined by '; '")
    field: str | None = Field(default=None, description="the (first) field that is wrong")
    errors: list[FieldError] | None = Field(
        default=None, description="every wrong field with its rule, when fields are named"
    )


# The error list is bounded like the rest of a response; error_msg names the first ten.
MAX_FIELD_ERRORS = 100
_HTTP_CODES = {
    # FastAPI's own 400: a body it could not even decode (not UTF-8, nested too deeply, a
    # number with more digits than Python converts).
    400: ("INVALID_INPUT", "cannot be decoded as JSON: not UTF-8, nested too deeply, "
          "or a number with too many digits"),
    404: ("NOT_FOUND", "no such path"),
    405: ("METHOD_NOT_ALLOWED", "method not allowed on this path"),
    413: ("TOO_LARGE", ""),
}
# Every body of the management API is JSON; anything else is refused as such, not decoded
# as a stray string (curl -d sends form encoding unless told otherwise).
UNSUPPORTED_MEDIA_TYPE = 415
SEND_JSON = (
    "send JSON with Content-Type: application/json (this request's body is {kind}; "
    "with curl, add -H 'Content-Type: application/json')"
)


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    problems: Sequence[Problem] = (),
) -> JSONResponse:
    errors = [FieldError(field=p.field, message=p.rule) for p in problems[:MAX_FIELD_ERRORS]]
    body = ErrorBody(error_code=code, error_msg=message, field=field, errors=errors or None)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _from_apicron(error: ApicronError) -> JSONResponse:
    return error_response(
        error.status, error.code, error.message, error.field, problems=error.problems
    )


def _unread_body(request: Request, errors: Sequence[Any]) -> str | None:
    """What the body was sent as, when FastAPI did not read it as JSON: it reads JSON only
    under a JSON media type and hands anything else to validation as raw bytes."""
    if not any(
        tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes | bytearray)
        for e in errors
    ):
        return None
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip()
    return declared or "sent without a Content-Type"


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette names only the first route's."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApicronError)
    async def _apicron(_request: Request, exc: ApicronError) -> JSONResponse:
        return _from_apicron(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        media_type = _unread_body(request, errors)
        if media_type is not None:
            return error_response(
                UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
                "body: " + SEND_JSON.format(kind=media_type), "body",
                problems=[Problem("body", SEND_JSON.format(kind=media_type))],
            )
        if errors and errors[0].get("type") == "json_invalid":
            detail = errors[0].get("ctx", {}).get("error", "")
            return _from_apicron(InvalidInput(f"is not valid JSON ({detail})", field="body"))
        return _from_apicron(invalid_input(errors))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", ""))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        if exc.status_code == 400:
            return _from_apicron(InvalidInput(message, field="body"))
        return error_response(exc.status_code, code, message or str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            # Nothing was changed (the transaction never committed): safe to retry.
            request.app.state.ctx.health.failed(exc)
            return error_response(
                503, "DATABASE_UNAVAILABLE",
                "the database is unreachable; nothing was changed, retry shortly",
                headers={"Retry-After": "2"},
            )
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "INTERNAL_ERROR", "internal error; see the server log")
