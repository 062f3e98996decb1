"""The alert sender's Prometheus metrics, in the engine's registry: ``/metrics`` shows them
where an engine (and so a sender) runs (roles ``all`` and ``scheduler``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from apicron.engine.metrics import REGISTRY

SENT = Counter(
    "apicron_alerts_sent", "Alert events delivered, by channel kind", ["channel_kind"],
    registry=REGISTRY,
)
FAILED = Counter(
    "apicron_alerts_failed",
    "Alert events given up after their last attempt, by channel kind", ["channel_kind"],
    registry=REGISTRY,
)
DELIVERY_ERRORS = Counter(
    "apicron_alert_delivery_errors",
    "Failed delivery attempts (each retried until the last), by channel kind",
    ["channel_kind"], registry=REGISTRY,
)
TASKS_ALERTING = Gauge(
    "apicron_tasks_alerting",
    "Tasks with a failure or no-success alert open (no recovery yet), across the instance",
    registry=REGISTRY,
)
