"""The console's overview: what an operator looks at first (issue 15).

Every figure counts the rows REST lists: task statuses as ``GET /v1/tasks`` answers
them, executions by their scheduled time as ``GET /v1/tasks/{id}/executions?from=``
filters them, delivered alerts as ``GET /v1/alerts?status=SENT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apicron.domain.access import Permission
from apicron.domain.errors import ApicronError
from apicron.domain.models import ExecutionSummary
from apicron.domain.schedules import occurrences, schedule_of
from apicron.domain.vocabulary import TaskStatus, choices
from apicron.services.context import Context

# Every state, COMPLETED one-off tasks too: the counts add up to what GET /v1/tasks lists.
TASK_STATUSES = choices(TaskStatus)
FAILING_SHOWN = 20
UPCOMING_TASKS = 50
# Per task: an every-second task fires 3600 times an hour; the count stops here.
UPCOMING_PER_TASK = 300


@dataclass(frozen=True)
class SuccessRate:
    """Finished runs scheduled in the last ``hours``: SUCCEEDED over SUCCEEDED + FAILED
    (``rate`` in percent, None when nothing finished)."""

    hours: int
    succeeded: int
    failed: int

    @property
    def rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return None if finished == 0 else 100.0 * self.succeeded / finished


@dataclass(frozen=True)
class FailingTask:
    """A task whose latest execution failed, with that execution (its error)."""

    task_id: str
    name: str
    execution: ExecutionSummary


@dataclass(frozen=True)
class UpcomingTask:
    """A started task's fire times in the next hour (at most ``UPCOMING_PER_TASK``;
    ``more`` when it fires more often than that)."""

    task_id: str
    name: str
    timezone: str
    times: list[datetime]
    more: bool


@dataclass(frozen=True)
class Overview:
    now: datetime
    task_counts: dict[str, int]
    rates: list[SuccessRate]
    missed_24h: int
    skipped_24h: int
    alerts_sent_24h: int
    failing: list[FailingTask]
    upcoming: list[UpcomingTask]

    @property
    def task_total(self) -> int:
        return sum(self.task_counts.values())

    @property
    def upcoming_runs(self) -> int:
        return sum(len(u.times) for u in self.upcoming)


def _upcoming(ctx: Context, now: datetime, until: datetime) -> list[UpcomingTask]:
    with ctx.store.read() as q:
        due = q.started_tasks_due_before(until, UPCOMING_TASKS)
    found = []
    for task in due:
        if task.next_fire_time is None:
            continue
        try:
            schedule = schedule_of(task)
        except ApicronError:  # a zone gone from tzdata: its task page says so
            continue
        times, after = occurrences(schedule, task.next_fire_time, until, UPCOMING_PER_TASK)
        # An overdue fire (the engine is about to take it) shows at now, not in the past.
        times = [max(t, now) for t in times]
        if times:
            found.append(UpcomingTask(task.id, task.name, task.timezone, times,
                                      more=after is not None and after <= until))
    return sorted(found, key=lambda u: (u.times[0], u.name))


def overview(ctx: Context) -> Overview:
    """The instance's state now: tasks per status, success rates over 24 h and 7 d, runs
    missed or skipped and alerts sent in the last 24 h, the failing tasks and the runs
    of the next hour. Raises Forbidden without the READ permission."""
    ctx.require(Permission.READ)
    now = ctx.now()
    day, week = now - timedelta(hours=24), now - timedelta(days=7)
    with ctx.store.read() as q:
        statuses = q.task_status_counts()
        last_day = q.execution_status_counts(day)
        last_week = q.execution_status_counts(week)
        alerts_sent = q.alerts_sent_since(day)
        failing = [FailingTask(i, n, e) for i, n, e in q.failing_tasks(FAILING_SHOWN)]
    return Overview(
        now=now,
        task_counts={s: statuses.get(s, 0) for s in TASK_STATUSES},
        rates=[
            SuccessRate(24, last_day.get("SUCCEEDED", 0), last_day.get("FAILED", 0)),
            SuccessRate(24 * 7, last_week.get("SUCCEEDED", 0), last_week.get("FAILED", 0)),
        ],
        missed_24h=last_day.get("MISSED", 0),
        skipped_24h=last_day.get("SKIPPED", 0),
        alerts_sent_24h=alerts_sent,
        failing=failing,
        upcoming=_upcoming(ctx, now, now + timedelta(hours=1)),
    )
