"""Step two of a gateway call: send an authorized call to the API's backend.

Contract
--------
:func:`open_backend` (streaming; the gateway's HTTP edge) is an async context manager that
yields a :class:`BackendStream` once the backend's status and headers have arrived; the body
is read from ``stream.content`` inside the ``async with``, and leaving it returns the
connection to the pool (or closes it when the body was not read to the end).
:func:`call_backend` (buffered; the scheduler) makes the same call and returns a
:class:`BackendResponse` with the body read, up to ``max_body_bytes`` when given.

Both take the :class:`~apicron.gateway.auth.Authorized` call, the request's raw
``query_string``, ``headers`` (any mapping; a multi-dict keeps repeated headers) and
``body``, the caller's ``client_ip`` and the ``scheme`` it used. Both raise
:class:`~apicron.gateway.errors.GatewayError` when no answer comes: 502
``BACKEND_FORBIDDEN`` (the host is or resolves only to an address the outbound policy
refuses, :mod:`apicron.outbound`, checked on the addresses actually connected to), 502
``BACKEND_UNREACHABLE`` (DNS or connect failure), 502 ``BACKEND_ERROR`` (connection
dropped, not HTTP, TLS failure), 504 ``BACKEND_TIMEOUT``. The API's ``backend_timeout_ms``
bounds, for ``open_backend``, the wait for the status and headers and then each wait for
more body; for ``call_backend``, the whole call. Caller-facing messages name the API, never
the backend's address; the log line has the details.

What the backend receives: the API's method; the published ``backend_url`` with each
``{name}`` replaced by the percent-encoded path parameter and the request's query string
appended byte for byte (after the backend URL's own query, if any), or for a signed request
``Authorized.forwarded_query``, the canonical form the signature covers; the body unchanged;
every header unchanged except that these are dropped: the credentials (``Authorization``,
``X-HW-ID``, ``X-HW-AppKey``, and ``X-Sdk-Date`` when a signature was checked),
hop-by-hop headers (``Connection`` and the names it lists, ``Keep-Alive``, ``Proxy-*``,
``TE``, ``Trailer``, ``Transfer-Encoding``, ``Upgrade``), and ``Host``, ``Content-Length``
and ``Expect`` (aiohttp writes its own for the backend), and every ``X-Apicron-*`` header
(backends deduplicate on the occurrence headers: only the scheduler sets them, passing them
as ``added_headers``, which are added after this filtering). ``X-Forwarded-For`` gets the
client's address appended; ``X-Forwarded-Proto`` is set to ``scheme``. What comes back: the
backend's status, its headers minus hop-by-hop ones, and its body byte for byte (never
decompressed). Redirects are returned, not followed; cookies are never kept.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from yarl import URL

from apicron.domain.models import PublishedApi
from apicron.domain.rules import PATH_PARAM
from apicron.gateway.addresses import ForbiddenAddress, GuardedResolver, OutboundPolicy
from apicron.gateway.auth import Authorized
from apicron.gateway.errors import GatewayError, bad_gateway, gateway_timeout

log = logging.getLogger("apicron.gateway")

# Bounds the calls in flight to all backends together; more wait for a free connection
# (within their timeout) instead of opening sockets without limit.
MAX_BACKEND_CONNECTIONS = 256

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
     "upgrade"}
)
_CREDENTIALS = frozenset({"authorization", "x-hw-id", "x-hw-appkey"})
_WRITTEN_BY_CLIENT = frozenset({"host", "content-length", "expect"})
# Set by the scheduler only (apicron.signing: the occurrence headers and their signature).
_APICRON_PREFIX = "x-apicron-"
# aiohttp adds these when absent; the backend must see only what the caller sent.
_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
# RFC 3986 pchar plus "/": kept as they are in the backend URL's own path and query.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True)
class BackendStream:
    status: int
    reason: str | None
    headers: CIMultiDict[str]
    """The headers to return: the backend's minus hop-by-hop ones."""
    content_length: int | None
    content: aiohttp.StreamReader


@dataclass(frozen=True)
class BackendResponse:
    status: int
    reason: str | None
    headers: CIMultiDict[str]
    body: bytes
    truncated: bool
    """The body was longer than ``max_body_bytes`` and was cut there."""


@asynccontextmanager
async def backend_session(
    *,
    max_connections: int = MAX_BACKEND_CONNECTIONS,
    resolver: AbstractResolver | None = None,
    outbound: OutboundPolicy | None = None,
) -> AsyncIterator[aiohttp.ClientSession]:
    """The one client session for backend calls: pooled, bounded, every connection checked
    against ``outbound`` (default: the built-in deny list; see :mod:`apicron.outbound`).

    ``resolver`` is the DNS resolver to guard (default: aiohttp's); tests pass their own.
    """
    policy = outbound if outbound is not None else OutboundPolicy.default()
    guarded = GuardedResolver(resolver, policy)
    connector = aiohttp.TCPConnector(
        limit=max_connections, limit_per_host=0, resolver=guarded, ttl_dns_cache=10,
        socket_factory=policy.socket_factory,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=_SKIP_AUTO_HEADERS,
        trust_env=False,
    )
    # aiohttp resends an idempotent request once, silently, when a reused connection
    # drops before the answer; the backend may already have acted on the first one, so a
    # single call (or a task's single attempt) would reach it twice. Failures are
    # reported instead and retried only by the task's own retry policy. (No public
    # switch exists; aiohttp's own test client sets the same attribute.)
    if not hasattr(session, "_retry_connection"):
        raise RuntimeError("this aiohttp cannot be kept from resending requests")
    session._retry_connection = False
    try:
        yield session
    finally:
        await session.close()
        await guarded.close()


# -- what the backend receives -----------------------------------------------------------


def _connection_listed(headers: Mapping[str, str]) -> set[str]:
    listed: set[str] = set()
    for name, value in headers.items():
        if name.lower() == "connection":
            listed.update(token.strip().lower() for token in value.split(",") if token.strip())
    return listed


def _hop_by_hop(lower: str, listed: set[str]) -> bool:
    return lower in _HOP_BY_HOP or lower.startswith("proxy-") or lower in listed


def forwarded_headers(
    headers: Mapping[str, str], *, signed: bool, client_ip: str, scheme: str
) -> CIMultiDict[str]:
    """The request headers the backend receives (see the module's contract)."""
    listed = _connection_listed(headers)
    result: CIMultiDict[str] = CIMultiDict()
    forwarded_for: list[str] = []
    for name, value in headers.items():
        lower = name.lower()
        if lower in _CREDENTIALS or lower in _WRITTEN_BY_CLIENT or _hop_by_hop(lower, listed):
            continue
        if lower.startswith(_APICRON_PREFIX):
            continue
        if signed and lower == "x-sdk-date":
            continue
        if lower == "x-forwarded-for":
            forwarded_for.append(value.strip())
        elif lower != "x-forwarded-proto":
            result.add(name, value)
    forwarded_for.append(client_ip)
    result["X-Forwarded-For"] = ", ".join(item for item in forwarded_for if item)
    result["X-Forwarded-Proto"] = scheme
    return result


def returned_headers(headers: Mapping[str, str]) -> CIMultiDict[str]:
    """The backend's response headers the caller receives: hop-by-hop ones dropped."""
    listed = _connection_listed(headers)
    return CIMultiDict(
        (name, value) for name, value in headers.items() if not _hop_by_hop(name.lower(), listed)
    )


@dataclass(frozen=True)
class _Target:
    origin: str
    pieces: tuple[str, ...]
    """Encoded literal path text at even indexes, parameter names at odd ones."""
    query: str


@functools.lru_cache(maxsize=4096)
def _target(backend_url: str) -> _Target:
    parts = urlsplit(backend_url)
    origin = str(URL.build(scheme=parts.scheme, host=parts.hostname or "", port=parts.port))
    pieces = PATH_PARAM.split(parts.path or "/")
    return _Target(
        origin=origin,
        pieces=tuple(
            piece if index % 2 else quote(piece, safe=_PATH_SAFE)
            for index, piece in enumerate(pieces)
        ),
        query=quote(parts.query, safe=_QUERY_SAFE),
    )


def backend_url(api: PublishedApi, path_params: Mapping[str, str], query_string: str) -> URL:
    """The URL to call: placeholders filled, the request's query appended unchanged."""
    target = _target(api.backend_url)
    path = []
    for index, piece in enumerate(target.pieces):
        if index % 2 == 0:
            path.append(piece)
            continue
        value = path_params.get(piece)
        if value is None:  # refused when the API is saved; kept out of the URL regardless
            raise bad_gateway(
                "BACKEND_CONFIG",
                f"API {api.name!r}: backend_url uses {{{piece}}}, which its path does not "
                "define; fix and republish the API",
                kind="CONFIG",
            )
        path.append(quote(value, safe="", errors="surrogateescape"))
    query = "&".join(part for part in (target.query, query_string) if part)
    return URL(target.origin + "".join(path) + (f"?{query}" if query else ""), encoded=True)


# -- the call ------------------------------------------------------------------------------


def backend_failure(error: BaseException, api: PublishedApi) -> BaseException:
    """The :class:`GatewayError` a failed backend call answers (logged here with details),
    or ``error`` itself when it is not a backend failure."""
    backend = urlsplit(api.backend_url).netloc
    os_error = error.os_error if isinstance(error, aiohttp.ClientConnectorError) else error
    result: GatewayError
    if isinstance(os_error, ForbiddenAddress):
        result = bad_gateway(
            "BACKEND_FORBIDDEN",
            f"the backend of API {api.name!r} is, or resolves only to, an address the "
            "outbound policy refuses (link-local / cloud metadata, or APICRON_OUTBOUND_DENY "
            "and APICRON_OUTBOUND_ALLOW); the gateway refuses to call it",
            kind="CONFIG",
        )
    elif isinstance(error, TimeoutError):
        result = gateway_timeout(
            f"the backend of API {api.name!r} did not answer within {api.backend_timeout_ms} "
            "ms (the API's backend_timeout_ms)"
        )
    elif isinstance(error, aiohttp.ClientSSLError):
        result = bad_gateway(
            "BACKEND_ERROR", f"the TLS handshake with the backend of API {api.name!r} failed",
            kind="TLS",
        )
    elif isinstance(error, aiohttp.ClientConnectorError):
        unresolved = isinstance(os_error, socket.gaierror)
        reason = (
            "its host name does not resolve" if unresolved
            else "the connection was refused or failed"
        )
        result = bad_gateway(
            "BACKEND_UNREACHABLE", f"the backend of API {api.name!r} is unreachable: {reason}",
            kind="DNS" if unresolved else "CONNECT",
        )
    elif isinstance(error, aiohttp.InvalidURL):
        result = bad_gateway(
            "BACKEND_UNREACHABLE",
            f"the backend URL of API {api.name!r} cannot be called (its host is not a valid "
            "name or canonical address); fix and republish the API",
            kind="CONFIG",
        )
    elif isinstance(error, aiohttp.ClientError):
        result = bad_gateway(
            "BACKEND_ERROR",
            f"the backend of API {api.name!r} closed the connection or did not answer HTTP",
        )
    else:
        return error
    log.warning(
        "backend call failed: api=%s backend=%s status=%d %s: %s",
        api.id, backend, result.status, type(os_error).__name__, os_error,
    )
    return result


@asynccontextmanager
async def open_backend(
    session: aiohttp.ClientSession,
    authorized: Authorized,
    *,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    client_ip: str,
    scheme: str,
    added_headers: Mapping[str, str] | None = None,
) -> AsyncIterator[BackendStream]:
    """Call the backend; yield once its status and headers arrived (see the contract)."""
    api = authorized.api
    if authorized.forwarded_query is not None:
        query_string = authorized.forwarded_query
    url = backend_url(api, authorized.path_params, query_string)
    seconds = api.backend_timeout_ms / 1000
    sent = forwarded_headers(
        headers, signed=authorized.auth_method == "SIGNATURE", client_ip=client_ip,
        scheme=scheme,
    )
    if added_headers:
        sent.extend(added_headers)
    try:
        async with asyncio.timeout(seconds):
            response = await session.request(
                api.method,
                url,
                headers=sent,
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=seconds, sock_read=seconds
                ),
            )
    except (OSError, aiohttp.ClientError) as error:  # TimeoutError is an OSError
        raise backend_failure(error, api) from None
    async with response:
        yield BackendStream(
            status=response.status,
            reason=response.reason,
            headers=returned_headers(response.headers),
            content_length=response.content_length,
            content=response.content,
        )


async def _read(content: aiohttp.StreamReader, limit: int | None) -> tuple[bytes, bool]:
    if limit is None:
        return await content.read(), False
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:limit], size > limit


async def call_backend(
    session: aiohttp.ClientSession,
    authorized: Authorized,
    *,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    client_ip: str,
    scheme: str,
    max_body_bytes: int | None = None,
    added_headers: Mapping[str, str] | None = None,
) -> BackendResponse:
    """Call the backend and read its answer, all within the API's timeout."""
    api = authorized.api
    try:
        async with asyncio.timeout(api.backend_timeout_ms / 1000):
            async with open_backend(
                session, authorized, query_string=query_string, headers=headers, body=body,
                client_ip=client_ip, scheme=scheme, added_headers=added_headers,
            ) as stream:
                data, truncated = await _read(stream.content, max_body_bytes)
    except (OSError, aiohttp.ClientError) as error:
        raise backend_failure(error, api) from None
    return BackendResponse(stream.status, stream.reason, stream.headers, data, truncated)

