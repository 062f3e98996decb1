"""Signing and verifying apicron's webhook events (issue 14; DESIGN.md fixes the format).

Every event apicron POSTs to a ``webhook`` channel carries
``X-Apicron-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``, where
``body`` is the exact bytes received, and ``X-Apicron-Event-Id``, the same on every
delivery of one event (deduplicate on it). A receiver checks both with :func:`verify`::

    from apicron.webhooks import verify
    if not verify(secret, request.headers["X-Apicron-Signature"], raw_body):
        return 401

Only the standard library: receivers need not install apicron's server side.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Apicron-Signature"
EVENT_ID_HEADER = "X-Apicron-Event-Id"
DEFAULT_TOLERANCE_S = 300
"""How old a signature :func:`verify` accepts by default (and how far in the future)."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, now: float | None = None) -> str:
    """The ``X-Apicron-Signature`` value for ``body`` sent at ``now`` (Unix seconds)."""
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``header`` (an ``X-Apicron-Signature`` value) signs ``body`` under
    ``secret`` within ``tolerance_s`` of ``now``; a stale signature (a replay) is refused.
    Any ``v1=`` entry may match (a header may carry several, e.g. while a secret is
    changed); the comparison is constant-time."""
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
