"""Shared by the reliability and security tests (test_bad_input, test_secrets_leak,
test_backend_faults): raw HTTP on a socket, a response recorder, health checks."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.servers import ApicronProcess


def raw_json(body: Any) -> bytes:
    """JSON as Python writes it, lone surrogates escaped as ``\\udXXX`` (httpx's ``json=``
    cannot encode them)."""
    return json.dumps(body).encode("ascii")


def raw_http(port: int, request: bytes, timeout: float = 10) -> tuple[int, bytes]:
    """Send bytes exactly as given; the status and body of the answer (0 if none came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks: list[bytes] = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if _complete(b"".join(chunks)):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    answer = b"".join(chunks)
    if not answer.startswith(b"HTTP/1."):
        return 0, answer
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _complete(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def assert_healthy(server: ApicronProcess, since: int = 0) -> None:
    """The management API answers /healthz and the process logged no traceback (in its log
    from character ``since`` on: see :func:`log_mark`)."""
    r = httpx.get(f"{server.url}/healthz", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    assert server.process is not None and server.process.poll() is None
    log = server.log()[since:]
    assert "Traceback" not in log, log[-4000:]


def log_mark(server: ApicronProcess) -> int:
    """Where the server's log ends now, for :func:`assert_healthy`."""
    return len(server.log())


def error_of(response: httpx.Response, status: int, field: str) -> str:
    """The error message of a refusal, checked to be the contract's body naming ``field``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error_code", "error_msg"}, body
    message: str = body["error_msg"]
    assert message.startswith(field), body
    return message


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: str
    request_headers: list[tuple[str, str]]


@dataclass
class Recorder:
    """Keeps every response an httpx client receives (install with :meth:`hook`)."""

    exchanges: list[Exchange] = field(default_factory=list)

    def hook(self) -> dict[str, list[Callable[[httpx.Response], None]]]:
        return {"response": [self._record]}

    def _record(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append(
            Exchange(
                method=response.request.method,
                url=str(response.request.url),
                status=response.status_code,
                headers=list(response.headers.multi_items()),
                body=response.content.decode("utf-8", "replace"),
                request_headers=list(response.request.headers.multi_items()),
            )
        )


def wait_for(check: Callable[[], bool], limit: float = 30, what: str = "condition") -> None:
    """Poll ``check`` until it holds; fails after ``limit`` seconds (never a speed claim)."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {limit} s")
        time.sleep(0.1)
