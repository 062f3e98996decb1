"""The gateway (data plane): serves published APIs on its own port.

One call is two steps, each a plain function the scheduler can run in-process too:

* :func:`~apicron.gateway.auth.authorize` (pure, over a
  :class:`~apicron.gateway.snapshot.GatewaySnapshot`): route by method, path and Host, then
  authenticate (NONE, SDK-HMAC-SHA256 signature, or ``X-HW-ID``/``X-HW-AppKey`` while
  ``app_secret`` is on) and check ownership or a grant → :class:`~apicron.gateway.auth.Authorized`;
  :func:`~apicron.gateway.auth.authorize_latest` runs it against a
  :class:`~apicron.gateway.snapshot.SnapshotCache`.
* :func:`~apicron.gateway.proxy.open_backend` (streaming) or
  :func:`~apicron.gateway.proxy.call_backend` (buffered): forward to the published backend
  through one shared session from :func:`~apicron.gateway.proxy.backend_session`.

Both raise :class:`~apicron.gateway.errors.GatewayError` (status, ``error_code``, message).
:class:`~apicron.gateway.listener.Gateway` is the aiohttp edge over them;
:data:`~apicron.gateway.metrics.REGISTRY` holds its Prometheus metrics.

Modules: ``routing`` (route table), ``snapshot`` (what the gateway knows, and its cache),
``auth``, ``addresses`` (refused backend addresses, guarded DNS), ``proxy``, ``listener``,
``metrics``, ``errors``.
"""

from __future__ import annotations

from apicron.gateway.auth import Authorized, authorize, authorize_latest
from apicron.gateway.errors import MAX_BODY_BYTES, GatewayError
from apicron.gateway.listener import Gateway
from apicron.gateway.proxy import (
    BackendResponse,
    BackendStream,
    backend_session,
    call_backend,
    open_backend,
)
from apicron.gateway.snapshot import GatewaySnapshot, SnapshotCache, build_snapshot

__all__ = [
    "MAX_BODY_BYTES",
    "Authorized",
    "BackendResponse",
    "BackendStream",
    "Gateway",
    "GatewayError",
    "GatewaySnapshot",
    "SnapshotCache",
    "authorize",
    "authorize_latest",
    "backend_session",
    "build_snapshot",
    "call_backend",
    "open_backend",
]
