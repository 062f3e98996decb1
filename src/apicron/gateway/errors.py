"""The gateway's refusals: a status, an ``error_code`` and a message a caller can act on.

They answer ``{"error_code", "error_msg"}`` like the management API. A message never holds
a credential (secret, signature) or a backend's answer: only what the caller sent that is
safe to show, and what to do about it.
"""

from __future__ import annotations

from apicron.domain.errors import ApicronError
from apicron.domain.models import PublishedApi

MAX_BODY_BYTES = 12 * 1024 * 1024


class GatewayError(ApicronError):
    """A call the gateway refuses or cannot complete; ``status`` is the HTTP answer."""

    def __init__(self, status: int, code: str, message: str, kind: str | None = None):
        super().__init__(message, code=code)
        self.status = status
        self.api: PublishedApi | None = None
        """The API the call was routed to, when it got that far (for logs and metrics)."""
        self.kind = kind
        """For a failed backend call, the execution's error kind (DNS, CONNECT, TLS,
        TIMEOUT, CONFIG); the caller's answer does not tell DNS from TLS apart."""


class UnknownAppKey(GatewayError):
    """401 for a key the snapshot does not hold; the edge may look the key up once."""

    def __init__(self, key: str, message: str):
        super().__init__(401, "UNAUTHORIZED", message)
        self.key = key


def bad_request(message: str) -> GatewayError:
    return GatewayError(400, "BAD_REQUEST", message)


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, "UNAUTHORIZED", message)


def forbidden(message: str) -> GatewayError:
    return GatewayError(403, "FORBIDDEN", message)


def not_found(message: str) -> GatewayError:
    return GatewayError(404, "NOT_FOUND", message)


def too_large(size: int | None = None) -> GatewayError:
    got = f" (got {size} bytes)" if size is not None else ""
    return GatewayError(
        413, "TOO_LARGE", f"request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB{got}"
    )


def bad_gateway(code: str, message: str, kind: str = "CONNECT") -> GatewayError:
    return GatewayError(502, code, message, kind)


def gateway_timeout(message: str) -> GatewayError:
    return GatewayError(504, "BACKEND_TIMEOUT", message, "TIMEOUT")
