"""Real receivers for alert tests: a webhook endpoint that checks apicron's signature
itself (the standard library's HMAC, not apicron's code), and helpers to run the alert
sender next to the engine harness."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.threaded_server import ThreadedServer


def independent_signature_ok(secret: str, header: str, body: bytes, tolerance: float = 300) -> bool:
    """DESIGN.md's format, checked without apicron's code: ``t=<unix>,v1=<hex HMAC-SHA256(
    secret, "<t>." + body)>``."""
    fields = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance and hmac.compare_digest(
        expected, fields["v1"])


@dataclass
class Delivery:
    event_id: str
    event: str
    body: dict[str, Any]
    headers: dict[str, str]
    signed: bool
    received_at: float


@dataclass
class WebhookState:
    secret: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    """Deliveries answered 2xx (accepted), in order."""
    refused: int = 0
    mode: str = "accept"
    """accept | fail (answer 500) | hang (never answer while in this mode)."""
    hung: int = 0
    others: list[bytes] = field(default_factory=list)
    """Bodies accepted on other paths than /hooks/… (Apprise's json:// posts)."""


class WebhookReceiver(ThreadedServer):
    """A JSON webhook endpoint on loopback in a thread of its own: accepts (200), fails
    (500) or hangs as told; only signed, accepted deliveries are kept."""

    SHUTDOWN_TIMEOUT = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.state = WebhookState()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/apicron-secret-path-token"

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        state = self.state
        if state.mode == "hang":
            # Held, then refused: a delivery that arrived while hanging is never accepted
            # (its sender gave up on it long before), so "accepted" means answered 200.
            state.hung += 1
            while state.mode == "hang":  # noqa: ASYNC110 - a test's switch, polled
                await asyncio.sleep(0.05)
            return web.Response(status=503, text="was hanging")
        if state.mode == "fail":
            state.refused += 1
            return web.Response(status=500, text="not now")
        if not request.path.startswith("/hooks/"):
            state.others.append(body)
            return web.Response(status=200, text="ok")
        payload = json.loads(body)
        signed = independent_signature_ok(state.secret, request.headers.get(
            "X-Apicron-Signature", "t=0,v1="), body)
        state.deliveries.append(Delivery(
            event_id=request.headers.get("X-Apicron-Event-Id", ""),
            event=payload.get("event", ""), body=payload, headers=dict(request.headers),
            signed=signed, received_at=time.time(),
        ))
        return web.Response(status=200 if signed else 401, text="ok")

    def events(self) -> list[str]:
        return [d.event for d in self.state.deliveries]
