"""The engine's Prometheus metrics (served at the management API's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FIRES = Counter("apicron_fires", "Executions started, by trigger", ["trigger"])
FAILURES = Counter("apicron_execution_failures", "Executions that failed, by error kind", ["kind"])
FAILED_ATTEMPTS = Counter(
    "apicron_failed_attempts", "Attempts that failed, by error kind", ["kind"]
)
RETRIES = Counter("apicron_retries", "Attempts retried after a failure")
SKIPPED = Counter("apicron_skipped", "Occurrences skipped because the previous one still ran")
MISSED = Counter("apicron_missed", "Occurrences recorded MISSED by the misfire policy")
LATENESS = Histogram(
    "apicron_fire_lateness_seconds",
    "First attempt sent minus scheduled time",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60),
)
QUEUE_DEPTH = Gauge("apicron_engine_queue_depth", "Executions planned or in flight")
CLAIM_DURATION = Histogram(
    "apicron_claim_duration_seconds",
    "Time of one planning transaction (claim, plan, insert, advance)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
