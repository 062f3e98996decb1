"""What the client raises: a hierarchy mirroring ``apicron.domain.errors``.

Each error the server answers (``{"error_code", "error_msg", "field"}``) becomes an
:class:`ApiError` of the class its HTTP status maps to. Those classes derive from the
domain's own as well, so ``except apicron.domain.errors.NotFound`` catches a 404 from the
client and a ``NotFound`` raised in-process alike, and ``str(error)`` is the server's
``error_msg`` (the field first, then the rule). The client never exits the process.

    ApicronError (apicron.domain.errors)
    └── ClientError
        ├── TransportError          the server could not be reached (connect, timeout, TLS)
        ├── UnexpectedResponse      an answer that is not apicron's (wrong URL, proxy page)
        └── ApiError                the server refused: status, error_code, field, url
            ├── InvalidInput        400 (also domain InvalidInput)
            ├── Unauthorized        401 (also domain Unauthorized)
            ├── Forbidden           403 (also domain Forbidden)
            ├── NotFound            404 (also domain NotFound)
            ├── Conflict            409 (also domain Conflict)
            ├── TooLarge            413 (also domain TooLarge)
            ├── Unavailable         503 (DATABASE_UNAVAILABLE: nothing changed, retry)
            └── ServerError         any other status ≥ 400
"""

from __future__ import annotations

from typing import Any

from apicron.domain import errors as domain


class ClientError(domain.ApicronError):
    """Root of what the client raises; ``url`` is the server it was talking to."""

    code = "CLIENT_ERROR"

    def __init__(self, message: str, *, url: str, code: str | None = None):
        super().__init__(message, code=code)
        self.url = url


class TransportError(ClientError):
    """No answer: the server is down, the URL is wrong, or the request timed out."""

    code = "UNREACHABLE"


class UnexpectedResponse(ClientError):
    """An answer the client cannot read as apicron's (not JSON, or not the expected shape)."""

    code = "UNEXPECTED_RESPONSE"


class ApiError(ClientError):
    """The server refused a request.

    Attributes: ``status`` (the HTTP status), ``error_code`` (e.g. ``INVALID_INPUT``,
    ``TASK_STARTED``), ``field`` (the field the rule is about, or None), ``method`` and
    ``url`` (the request that was refused).
    """

    def __init__(
        self, *, status: int, error_code: str, error_msg: str, field: str | None,
        method: str, url: str,
    ):
        ClientError.__init__(self, error_msg, url=url, code=error_code)
        # ApicronError composes "<field>: <rule>"; the server's error_msg already does.
        self.field = field
        self.rule = error_msg.removeprefix(f"{field}: ") if field else error_msg
        self.status = status
        self.method = method

    @property
    def error_code(self) -> str:
        return self.code

    @property
    def error_msg(self) -> str:
        return str(self)


class InvalidInput(ApiError, domain.InvalidInput):
    pass


class Unauthorized(ApiError, domain.Unauthorized):
    pass


class Forbidden(ApiError, domain.Forbidden):
    pass


class NotFound(ApiError, domain.NotFound):
    pass


class Conflict(ApiError, domain.Conflict):
    pass


class TooLarge(ApiError, domain.TooLarge):
    pass


class Unavailable(ApiError):
    """503: the server cannot reach its database; nothing was changed, retry shortly."""


class ServerError(ApiError):
    """Any other refusal (500 included: see the server's log)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    503: Unavailable,
}


def api_error(status: int, body: Any, *, text: str, method: str, url: str) -> ApiError:
    """The error for a refusal with ``status`` and the decoded JSON ``body`` (or None when
    it was not JSON, then ``text`` is the message)."""
    fields = body if isinstance(body, dict) else {}
    code = fields.get("error_code")
    message = fields.get("error_msg")
    field = fields.get("field")
    kind = _BY_STATUS.get(status, ServerError)
    return kind(
        status=status,
        error_code=code if isinstance(code, str) else f"HTTP_{status}",
        error_msg=message if isinstance(message, str) and message else (text.strip()[:200]
                                                                       or f"HTTP {status}"),
        field=field if isinstance(field, str) else None,
        method=method,
        url=url,
    )
