"""Delivering one alert event to one channel: apicron's signed webhook, or any Apprise URL.

``webhook``: a ``POST`` of the event's JSON (DESIGN.md: ``{"event", "event_id", "task",
"execution", "occurred_at", "console_url"}``, plus ``message`` and ``rest_url``) with
``Content-Type: application/json``, ``X-Apicron-Event-Id`` (the idempotency key: a
redelivery after a crash carries the same id), ``X-Apicron-Event`` and
``X-Apicron-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
(:func:`apicron.webhooks.sign`; receivers check it with :func:`apicron.webhooks.verify`
and refuse stale ones). Any 2xx is a delivery; redirects are not followed. The connection
goes through the outbound policy like backend calls (no link-local / metadata addresses).

``apprise``: the event as a title and a text body, through Apprise (Slack, Teams workflows,
email with STARTTLS, ntfy… from one URL). Apprise is synchronous: it runs in a worker
thread of a small pool, its socket timeouts set to ours and the wait bounded, so that a
hanging service costs a worker for a while and never the caller.

Error messages say what went wrong without the URL, which is a credential: Apprise's own log
lines are kept out of apicron's log and, when they explain a failure, reported with every
part of the URL that could be secret replaced by ``[REDACTED]``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import apprise

from apicron import __version__
from apicron.gateway.addresses import ForbiddenAddress
from apicron.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("apicron.alerts")

REDACTED = "[REDACTED]"
EVENT_HEADER = "X-Apicron-Event"


@dataclass(frozen=True)
class Destination:
    """A channel as the sender uses it: its kind and decrypted URL and secret."""

    kind: str
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Delivered:
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class Message:
    """One event as channels show it: the webhook JSON, and a title and text for Apprise."""

    event_id: str
    event: str
    payload: dict[str, Any]
    title: str
    text: str


def message_of(event_id: str, event: str, payload: dict[str, Any], public_url: str) -> Message:
    """The webhook body (the stored payload with its links) and the Apprise text."""
    task = payload.get("task") or {}
    task_id = str(task.get("id", ""))
    base = public_url.rstrip("/")
    body = {**payload, "event_id": event_id,
            "console_url": f"{base}/console/tasks/{task_id}/history" if task_id else base,
            "rest_url": f"{base}/v1/tasks/{task_id}" if task_id else base}
    execution = payload.get("execution")
    lines = [str(payload.get("message", event))]
    if isinstance(execution, dict):
        status = execution.get("status")
        attempts = execution.get("attempts") or []
        last = attempts[-1] if attempts else {}
        http = f", HTTP {last.get('http_status')}" if last.get("http_status") else ""
        lines.append(f"Execution {execution.get('id')} scheduled at "
                     f"{execution.get('scheduled_at')}: {status}{http} after "
                     f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''}")
    lines.append(f"History: {body['console_url']}")
    return Message(event_id, event, body, f"apicron {event}: task {task.get('name', '')}",
                   "\n".join(lines))


# -- Apprise's log lines ----------------------------------------------------------------------


class _PerThread(logging.Handler):
    """Keeps each worker thread's Apprise log lines, for that thread's error message."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None and record.levelno >= logging.WARNING:
            lines.append(record.getMessage())


_CAPTURE = _PerThread()
_apprise_log = logging.getLogger("apprise")  # apprise.logger.LOGGER_NAME
# Apprise logs hosts, users and sometimes more of a URL: never into apicron's log.
_apprise_log.propagate = False
_apprise_log.setLevel(logging.INFO)
_apprise_log.addHandler(_CAPTURE)


def secret_parts(url: str) -> list[str]:
    """Every part of ``url`` that may be a credential (the whole URL, user, password, host
    when it is not a dotted name, path segments, query values), longest first."""
    parts = {url}
    try:
        split = urlsplit(url)
        parts.update(p for p in (split.username, split.password) if p)
        host = split.hostname or ""
        if host and "." not in host and host != "localhost":
            parts.add(host)
        parts.update(segment for segment in split.path.split("/") if len(segment) >= 3)
        parts.update(value for _, value in parse_qsl(split.query) if len(value) >= 3)
        if split.netloc:
            parts.add(split.netloc)
    except ValueError:
        pass
    return sorted(parts, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    for part in secret_parts(url):
        text = text.replace(part, REDACTED)
    return text


def _apprise_send(url: str, title: str, text: str, timeout_s: float) -> Delivered:
    """One Apprise notification (in a worker thread)."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return Delivered(False, "the URL is not one Apprise understands")
    plugin.socket_connect_timeout = timeout_s
    plugin.socket_read_timeout = timeout_s
    _CAPTURE.local.lines = []
    try:
        ok = bool(plugin.notify(body=text, title=title))
        lines: list[str] = _CAPTURE.local.lines
    except Exception as exc:  # a plugin's own bug must cost this delivery only
        return Delivered(False, f"Apprise failed ({type(exc).__name__})")
    finally:
        _CAPTURE.local.lines = None
    if ok:
        return Delivered(True)
    reason = redact(lines[-1], url) if lines else "Apprise reported a failure"
    return Delivered(False, f"{plugin.service_name}: {reason}"[:500])


class Deliverer:
    """Sends messages to destinations, each delivery bounded by ``timeout_s``."""

    def __init__(self, session: aiohttp.ClientSession, timeout_s: float, apprise_workers: int = 4):
        self.session = session
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=apprise_workers,
                                        thread_name_prefix="apicron-apprise")

    def close(self) -> None:
        # Workers still inside Apprise end when its socket timeouts do; not waited for.
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def deliver(self, destination: Destination, message: Message) -> Delivered:
        started = time.monotonic()
        try:
            if destination.kind == "webhook":
                result = await self._webhook(destination, message)
            else:
                loop = asyncio.get_running_loop()
                work = loop.run_in_executor(self._pool, _apprise_send, destination.url,
                                            message.title, message.text, self.timeout_s)
                # Apprise may connect, then read, each within the timeout: twice, plus a margin.
                result = await asyncio.wait_for(work, self.timeout_s * 2 + 1)
        except TimeoutError:
            result = Delivered(False, f"no answer within {self.timeout_s:g} s")
        log.debug("delivered %s %s to a %s channel in %.0f ms: %s", message.event,
                  message.event_id, destination.kind, (time.monotonic() - started) * 1000,
                  "ok" if result.ok else result.error)
        return result

    async def _webhook(self, destination: Destination, message: Message) -> Delivered:
        body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"apicron/{__version__}",
            EVENT_ID_HEADER: message.event_id,
            EVENT_HEADER: message.event,
            SIGNATURE_HEADER: sign(destination.secret or "", body),
        }
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self.session.post(destination.url, data=body, headers=headers,
                                             allow_redirects=False) as response:
                    await response.read()
                    status = response.status
        except TimeoutError:
            return Delivered(False, f"no answer within {self.timeout_s:g} s")
        except aiohttp.ClientSSLError:  # before its base class, ClientConnectorError
            return Delivered(False, "the TLS handshake with the webhook failed")
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, ForbiddenAddress):
                return Delivered(False, "the webhook's address is refused by the outbound "
                                        "policy (APICRON_OUTBOUND_DENY / _ALLOW)")
            return Delivered(False, "could not connect to the webhook (refused, unreachable "
                                    "or its name does not resolve)")
        except (aiohttp.ClientError, OSError) as error:
            return Delivered(False, f"the webhook connection failed ({type(error).__name__})")
        if 200 <= status <= 299:
            return Delivered(True)
        return Delivered(False, f"the webhook answered HTTP {status}")
