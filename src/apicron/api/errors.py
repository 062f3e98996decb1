"""The one place where errors become HTTP: ``{"error_code", "error_msg"}`` and a status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from apicron.domain.errors import ApicronError, InvalidInput
from apicron.domain.validation import invalid_input
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.api")


class ErrorBody(BaseModel):
    error_code: str
    error_msg: str
    field: str | None = None


_HTTP_CODES = {
    # FastAPI's own 400: a body it could not even decode (not UTF-8, nested too deeply, a
    # number with more digits than Python converts).
    400: ("INVALID_INPUT", "body: cannot be decoded as JSON: not UTF-8, nested too deeply, "
          "or a number with too many digits"),
    404: ("NOT_FOUND", "no such path"),
    405: ("METHOD_NOT_ALLOWED", "method not allowed on this path"),
    413: ("TOO_LARGE", ""),
}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error_code=code, error_msg=message, field=field)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _from_apicron(error: ApicronError) -> JSONResponse:
    return error_response(error.status, error.code, error.message, error.field)


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
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
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
