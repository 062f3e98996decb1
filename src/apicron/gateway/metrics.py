"""The gateway's Prometheus metrics, in a registry of their own.

``REGISTRY`` holds only gateway metrics, so whatever serves ``/metrics`` can expose it next
to the process's default registry (``prometheus_client.generate_latest(REGISTRY)``).
Labels are the caller's app id (empty when no app was identified: NONE-auth APIs and
refused calls), the API's id (empty when no API matched: an API's name is unique only in
its group, and an id survives a rename) and the status class (``2xx``…), so their number is
bounded by the apps and APIs that exist, never by what callers send.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CALLS = Counter(
    "apicron_gateway_calls",
    "Calls answered by the gateway, by caller app, API and status class.",
    ["app_id", "api_id", "status_class"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "apicron_gateway_call_duration_seconds",
    "Time from the request arriving to the last byte of the answer, by caller app and API.",
    ["app_id", "api_id"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "apicron_gateway_calls_in_flight",
    "Calls the gateway is handling right now.",
    registry=REGISTRY,
    # With several gateway workers (apicron.gateway.workers), the sum over live ones.
    multiprocess_mode="livesum",
)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def record_call(
    *, app_id: str | None, api_id: str | None, status: int, seconds: float
) -> None:
    app_label, api_label = app_id or "", api_id or ""
    CALLS.labels(app_label, api_label, status_class(status)).inc()
    DURATION.labels(app_label, api_label).observe(seconds)
