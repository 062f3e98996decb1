"""Runs one execution: its attempts, the retry policy between them, and their records.

The call itself is made by a ``TaskCaller`` (in production: the gateway's own auth
pipeline and proxy, in-process), which reports an outcome instead of raising.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from apicron.domain.models import StoredTask
from apicron.engine import metrics
from apicron.engine.call_policy import task_retry_policy
from apicron.engine.cancellation import overlap_cancel
from apicron.engine.clock import EngineClock
from apicron.engine.results import ResultWriter
from apicron.engine.retry import RetryPolicy, parse_retry_after
from apicron.logs import about_execution
from apicron.store.records import AttemptRecord, ExecutionOutcome, ExecutionProgress

log = logging.getLogger("apicron.engine")

EXCERPT_BYTES = 4096


@dataclass(frozen=True)
class PlannedExecution:
    id: str
    task: StoredTask
    scheduled_at: datetime
    trigger: str
    first_attempt: int = 1
    note: str | None = None
    """How it came to run as it did (e.g. late after downtime), already in its row."""
    planned_at: datetime | None = None
    """When to fire it, if not at ``scheduled_at`` (the task's jitter, issue 18)."""

    @property
    def fire_at(self) -> datetime:
        """When the engine fires it; lateness is measured from here."""
        return self.planned_at or self.scheduled_at
    sequence_id: str | None = None
    """Issue 18: a SEQUENTIAL backfill's id; its executions run one at a time."""
    buffered: bool = False
    """It waited for the task's previous execution (overlap policy BUFFER_ONE, or SKIP
    looking again at another node's execution): late by design, so the misfire rule does
    not judge it."""
    adopted: bool = False
    """Taken from the queue: the engine that planned it stopped before firing it (its
    lease expired, or it handed it back). Said in the row when it runs late or not at
    all (:attr:`apicron.domain.misfire.Circumstances.adopted`)."""


@dataclass(frozen=True)
class CallOutcome:
    http_status: int | None = None
    error_kind: str | None = None
    error_msg: str | None = None
    excerpt: str | None = None
    retry_after: str | None = None

    @property
    def succeeded(self) -> bool:
        # The caller judged the answer (any 2xx, or the task's success conditions): an
        # answer without an error kind is a success.
        return self.error_kind is None and self.http_status is not None


class TaskCaller(Protocol):
    async def call(
        self, task: StoredTask, execution_id: str, scheduled_at: datetime, attempt: int
    ) -> CallOutcome: ...


def _duration_ms(start: datetime, end: datetime) -> int:
    return max(int((end - start) / timedelta(milliseconds=1)), 0)


class Dispatcher:
    def __init__(
        self,
        caller: TaskCaller,
        writer: ResultWriter,
        clock: EngineClock,
        policy: RetryPolicy | None = None,
    ):
        self.caller = caller
        self.writer = writer
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.calls_in_flight = 0
        """Calls sent and not yet answered (executions waiting to retry not counted)."""

    async def execute(self, planned: PlannedExecution) -> str:
        """Run every attempt the policy allows; returns the final status. Every line logged
        meanwhile names the task and the execution (:mod:`apicron.logs`)."""
        with about_execution(planned.task.id, planned.id):
            return await self._attempts(planned)

    async def _attempts(self, planned: PlannedExecution) -> str:
        task = planned.task
        attempt = planned.first_attempt
        while True:
            started = self.clock.now()
            if attempt == 1 and planned.trigger == "SCHEDULE":
                metrics.LATENESS.observe(max((started - planned.fire_at).total_seconds(), 0))
            self.calls_in_flight += 1
            try:
                outcome = await self.caller.call(task, planned.id, planned.scheduled_at, attempt)
            except asyncio.CancelledError as stop:
                # Cancelled by the overlap policy CANCEL_PREVIOUS: the attempt is recorded
                # as such (a shutdown's cancel goes on up: takeover resumes the execution).
                reason = overlap_cancel(stop)
                if reason is None:
                    raise
                _uncancel()
                outcome = CallOutcome(error_kind="CANCELLED", error_msg=reason.message)
            finally:
                self.calls_in_flight -= 1
            finished = self.clock.now()
            self.writer.attempt(
                AttemptRecord(
                    execution_id=planned.id,
                    number=attempt,
                    started_at=started,
                    finished_at=finished,
                    duration_ms=_duration_ms(started, finished),
                    http_status=outcome.http_status,
                    error_kind=outcome.error_kind,
                    error_msg=outcome.error_msg,
                    response_excerpt=outcome.excerpt,
                )
            )
            if outcome.succeeded:
                self.writer.change(ExecutionOutcome(planned.id, "SUCCEEDED", attempt, finished))
                return "SUCCEEDED"
            metrics.FAILED_ATTEMPTS.labels(outcome.error_kind or "HTTP").inc()
            retry = outcome.error_kind != "CANCELLED" and attempt <= task.max_retries and (
                self.policy.is_retryable(
                    outcome.error_kind, outcome.http_status,
                    assertions=task.success is not None and task.success.retry_on_assertion,
                ))
            if not retry:
                self.writer.change(ExecutionOutcome(
                    planned.id, "FAILED", attempt, finished, outcome.error_kind,
                    outcome.error_msg,
                ))
                metrics.FAILURES.labels(outcome.error_kind or "HTTP").inc()
                log.info(
                    "task %s execution %s failed on attempt %d: %s %s",
                    task.name, planned.id, attempt, outcome.error_kind, outcome.error_msg,
                )
                return "FAILED"
            self.writer.change(ExecutionProgress(
                planned.id, attempt, outcome.error_kind, outcome.error_msg
            ))
            policy = task_retry_policy(self.policy, task)
            delay = policy.delay(attempt, parse_retry_after(outcome.retry_after, finished))
            metrics.RETRIES.inc()
            try:
                await self.clock.sleep_until(finished + timedelta(seconds=delay), None)
            except asyncio.CancelledError as stop:
                reason = overlap_cancel(stop)
                if reason is None:
                    raise
                _uncancel()
                self.writer.change(ExecutionOutcome(
                    planned.id, "FAILED", attempt, self.clock.now(), "CANCELLED", reason.message,
                ))
                return "FAILED"
            attempt += 1


def _uncancel() -> None:
    """The overlap policy's cancel is handled here: the task goes on to record it."""
    current = asyncio.current_task()
    if current is not None:
        current.uncancel()
