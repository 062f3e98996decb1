"""The engine's Prometheus metrics, in a registry of their own: ``/metrics`` shows them
only on the nodes that run an engine (roles ``all`` and ``scheduler``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

FIRES = Counter("apicron_fires", "Executions started, by trigger", ["trigger"], registry=REGISTRY)
FAILURES = Counter(
    "apicron_execution_failures", "Executions that failed, by error kind", ["kind"],
    registry=REGISTRY,
)
FAILED_ATTEMPTS = Counter(
    "apicron_failed_attempts", "Attempts that failed, by error kind", ["kind"],
    registry=REGISTRY,
)
RETRIES = Counter("apicron_retries", "Attempts retried after a failure", registry=REGISTRY)
SKIPPED = Counter(
    "apicron_skipped", "Occurrences skipped because the previous one still ran",
    registry=REGISTRY,
)
MISSED = Counter(
    "apicron_missed", "Occurrences recorded MISSED by the misfire policy",
    registry=REGISTRY,
)
LATENESS = Histogram(
    "apicron_fire_lateness_seconds",
    "First attempt sent minus planned time (scheduled time plus the task's jitter)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "apicron_engine_queue_depth", "Executions planned or in flight",
    registry=REGISTRY,
)
CLAIM_DURATION = Histogram(
    "apicron_claim_duration_seconds",
    "Time of one planning transaction (claim, plan, insert, advance)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
LAST_PASS = Gauge(
    "apicron_engine_last_pass_timestamp_seconds",
    "When the engine loop last completed a pass (Unix time); /livez fails when it is old",
    registry=REGISTRY,
)
LOOP_ERRORS = Counter(
    "apicron_engine_loop_errors",
    "Unexpected errors in the engine loop, by stage (a database outage is not counted)",
    ["stage"],
    registry=REGISTRY,
)
