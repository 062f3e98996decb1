"""``/metrics``: this process's Prometheus metrics, by what it runs.

The process and build metrics always; the engine's only where an engine runs (roles
``all``, ``scheduler``); the gateway's only where the gateway listens (``all``,
``gateway``). Served by the management API (behind the token) and by the ops port.
"""

from __future__ import annotations

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Gauge,
    disable_created_metrics,
    generate_latest,
)

from apicron import __version__
from apicron.engine.metrics import REGISTRY as ENGINE_REGISTRY
from apicron.gateway.metrics import REGISTRY as GATEWAY_REGISTRY

# A ``_created`` series per counter doubles what Prometheus stores for nothing it can use.
disable_created_metrics()  # type: ignore[no-untyped-call]

BUILD_INFO = Gauge("apicron_build_info", "Always 1; the running version as a label", ["version"])
BUILD_INFO.labels(__version__).set(1)

ENGINE_ROLES = frozenset({"all", "scheduler"})
GATEWAY_ROLES = frozenset({"all", "gateway"})


_gateway_registry = [GATEWAY_REGISTRY]


def use_gateway_registry(registry: CollectorRegistry | None) -> None:
    """Expose the gateway's metrics from ``registry`` (the sums over the gateway worker
    processes, :mod:`apicron.gateway.workers`) instead of this process's own; ``None``:
    this process's own again."""
    _gateway_registry[0] = registry or GATEWAY_REGISTRY


def exposition(role: str) -> bytes:
    """The Prometheus text of a process of ``role``."""
    body = generate_latest(REGISTRY)
    if role in ENGINE_ROLES:
        body += generate_latest(ENGINE_REGISTRY)
    if role in GATEWAY_ROLES:
        body += generate_latest(_gateway_registry[0])
    return body
