"""The gateway's HTTP edge: an aiohttp server whose one handler runs the pipeline.

Per request: read the body (413 past 12 MiB, before reading when Content-Length says so),
:func:`~apicron.gateway.auth.authorize_latest`, the replay guard when the instance has it on
(:class:`~apicron.gateway.replay.ReplayGuard`), :func:`~apicron.gateway.proxy.open_backend`,
then stream the backend's answer back (one up to 64 KiB is read whole and sent in one
write). Errors answer ``{"error_code", "error_msg"}``. Each
call leaves one access-log line (logger ``apicron.gateway.access``: method, path without
the query, status, duration, app id, API id; never a credential) and its metrics.

The low-level ``aiohttp.web.Server`` is used, not an ``Application``: every path belongs to
the published APIs, so there is nothing to route before the pipeline does.
"""

from __future__ import annotations

import logging
import ssl
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from apicron.domain.errors import ConfigurationError
from apicron.domain.models import PublishedApi
from apicron.gateway.addresses import OutboundPolicy
from apicron.gateway.auth import authorize_latest
from apicron.gateway.errors import MAX_BODY_BYTES, GatewayError, too_large
from apicron.gateway.metrics import IN_FLIGHT, record_call
from apicron.gateway.proxy import (
    MAX_BACKEND_CONNECTIONS,
    backend_failure,
    backend_session,
    open_backend,
)
from apicron.gateway.replay import ReplayGuard
from apicron.gateway.snapshot import SnapshotCache
from apicron.services.context import Context
from apicron.signing import ALGORITHM
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.gateway")
access_log = logging.getLogger("apicron.gateway.access")
protocol_log = logging.getLogger("apicron.gateway.http")


class _MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot parse as an ERROR with a traceback that quotes the
    offending bytes. It is the client's mistake (anyone can send one), and the quoted line
    may be a credential header: keep one INFO line with the parser's reason alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = str(error.message).split("\n", 1)[0].rstrip(": ")
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "malformed request refused with %d: %s", (
                error.code, reason,
            )
            record.exc_info, record.exc_text = None, None
        return True


protocol_log.addFilter(_MalformedRequests())


class _RequestHandler(RequestHandler):
    """aiohttp's connection handler, whose 400 page would quote the request line or header
    line it could not parse, credential included, back to the sender (and any proxy log):
    a request aiohttp refuses gets the gateway's error body instead, naming only the kind
    of mistake."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)  # logs, checks state
        if not 400 <= status < 500:
            return response
        kind = type(exc).__name__ if exc is not None else HTTPStatus(status).phrase
        answer = web.json_response(
            {"error_code": "BAD_REQUEST",
             "error_msg": f"malformed HTTP request ({kind}); the gateway could not read it"},
            status=status,
        )
        answer.force_close()
        return answer


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        # As web.Server.__call__ does, with the handler above.
        return _RequestHandler(self, loop=self._loop, **self._kwargs)

WORKER_HEADER = "X-Apicron-Gateway-Worker"
"""Names the worker (1…``APICRON_GATEWAY_WORKERS``) that answered; sent only with several."""
_LOGGED_PATH_MAX = 300
# An answer this small is read whole and sent in one write (status, headers and body
# together: one syscall instead of two), and can still become a 502 if it breaks off.
_SMALL = 64 * 1024


@dataclass
class _Call:
    """What the access log and the metrics say about one call, filled in as it goes."""

    status: int = 500
    app_id: str | None = None
    api: PublishedApi | None = None


def _error_response(error: GatewayError) -> web.Response:
    headers = {"WWW-Authenticate": ALGORITHM} if error.status == 401 else None
    return web.json_response(
        {"error_code": error.code, "error_msg": error.message},
        status=error.status,
        headers=headers,
    )


async def _read_body(request: web.BaseRequest) -> bytes:
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise too_large(declared)
    if not request.body_exists:
        return b""
    if request.headers.get("Expect", "").lower() == "100-continue" and request.version >= (1, 1):
        # Without it, curl waits a second before sending a body over 1 MiB.
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


class Gateway:
    """The gateway listener of one process: snapshot cache, backend session, HTTP server.

    ``cache`` and ``session`` are what an in-process caller (the scheduler) needs to run
    the same pipeline without going through HTTP.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        resolver: AbstractResolver | None = None,
        max_connections: int = MAX_BACKEND_CONNECTIONS,
        outbound: OutboundPolicy | None = None,
        worker: int | None = None,
    ):
        self.ctx = ctx
        # One of several gateway processes on one port (apicron.gateway.workers): each
        # answer names its worker, so that an operator can see the load shared.
        self._worker_header = (
            {WORKER_HEADER: str(worker)} if worker is not None else None
        )
        self._outbound = outbound
        self.cache = SnapshotCache(ctx)
        self.replay_guard = ReplayGuard(ctx)
        self._resolver = resolver
        self._max_connections = max_connections
        self._stack = AsyncExitStack()
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the gateway is not started")
        return self._session

    async def start(
        self, host: str, port: int, ssl_context: ssl.SSLContext | None = None,
        *, reuse_port: bool = False,
    ) -> None:
        """Listen on ``host:port`` (0: any free port, then read ``self.port``), over TLS
        with ``ssl_context`` (:func:`apicron.tls.gateway_context`); ``reuse_port``: share
        the port with the other gateway workers (SO_REUSEPORT, Linux)."""
        self._session = await self._stack.enter_async_context(
            backend_session(
                max_connections=self._max_connections, resolver=self._resolver,
                outbound=self._outbound,
            )
        )
        # auto_decompress=False: the body is signed and forwarded exactly as it arrived.
        server = _Server(
            self.handle, access_log=None, auto_decompress=False, logger=protocol_log
        )
        runner = web.ServerRunner(server, shutdown_timeout=5)
        await runner.setup()
        self._stack.push_async_callback(runner.cleanup)
        try:
            await web.TCPSite(
                runner, host, port, backlog=1024, ssl_context=ssl_context,
                reuse_port=reuse_port or None,
            ).start()
        except OSError as error:
            await self.close()
            raise ConfigurationError(
                f"the gateway cannot listen on {host}:{port} ({error.strerror or error}); "
                "set APICRON_GATEWAY_HOST / APICRON_GATEWAY_PORT"
            ) from None
        self.port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening, let calls in flight finish (5 s at most), close the session."""
        await self._stack.aclose()
        self._session = None

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        raw_path, _, query_string = request.raw_path.partition("?")
        call = _Call()
        IN_FLIGHT.inc()
        try:
            response = await self._proxy(request, raw_path, query_string, call)
            if self._worker_header is not None and not response.prepared:
                response.headers.update(self._worker_header)
            return response
        except Exception as exc:
            if is_unavailable(exc):
                # Only reached when the snapshot cannot answer alone (an app key it has
                # never seen): the caller may retry.
                self.ctx.health.failed(exc)
                call.status = 503
                return _error_response(GatewayError(
                    503, "DATABASE_UNAVAILABLE", "the gateway cannot reach its database; retry"
                ))
            log.exception("gateway error on %s %s", request.method, raw_path[:_LOGGED_PATH_MAX])
            call.status = 500
            return _error_response(
                GatewayError(500, "INTERNAL_ERROR", "internal error; see the gateway log")
            )
        finally:
            IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            api = call.api
            record_call(
                app_id=call.app_id, api_id=api.id if api else None, status=call.status,
                seconds=seconds,
            )
            # The path only: a query string may carry a signature, and no header is logged.
            path = raw_path[:_LOGGED_PATH_MAX]
            access_log.info(
                "%s %s %d %.1fms app=%s api=%s",
                request.method, path, call.status, seconds * 1000,
                call.app_id or "-", api.id if api else "-",
                extra={"method": request.method, "path": path, "status": call.status,
                       "duration_ms": round(seconds * 1000, 1), "app_id": call.app_id,
                       "api_id": api.id if api else None},
            )

    async def _proxy(
        self, request: web.BaseRequest, raw_path: str, query_string: str, call: _Call
    ) -> web.StreamResponse:
        try:
            body = await _read_body(request)
            authorized = await authorize_latest(
                self.cache,
                method=request.method,
                host=request.headers.get("Host", ""),
                raw_path=raw_path,
                query_string=query_string,
                headers=request.headers,
                body=body,
                now=self.ctx.now(),
            )
            call.app_id, call.api = authorized.app_id, authorized.api
            if authorized.replay is not None:
                try:
                    await self.replay_guard.admit(authorized.replay)
                except GatewayError as error:
                    error.api = authorized.api
                    raise
            async with open_backend(
                self.session,
                authorized,
                query_string=query_string,
                headers=request.headers,
                body=body,
                client_ip=request.remote or "",
                scheme=request.scheme,
            ) as backend:
                call.status = backend.status
                if backend.content_length is not None and backend.content_length <= _SMALL:
                    try:
                        answer = await backend.content.read()
                    except (aiohttp.ClientError, OSError) as error:
                        raise backend_failure(error, authorized.api) from None
                    return web.Response(
                        status=backend.status, reason=backend.reason, headers=backend.headers,
                        body=answer,
                    )
                response = web.StreamResponse(
                    status=backend.status, reason=backend.reason, headers=backend.headers
                )
                if self._worker_header is not None:
                    response.headers.update(self._worker_header)
                await response.prepare(request)
                try:
                    async for chunk in backend.content.iter_any():
                        await response.write(chunk)
                    await response.write_eof()
                except (aiohttp.ClientError, OSError) as error:
                    # The status line is sent: the only way left to say "incomplete" is
                    # to drop the connection.
                    log.warning(
                        "call cut short while streaming the answer: api=%s %s: %s",
                        authorized.api.id, type(error).__name__, error,
                    )
                    if request.transport is not None:
                        request.transport.abort()
                return response
        except GatewayError as error:
            call.status = error.status
            call.api = call.api or error.api
            return _error_response(error)
