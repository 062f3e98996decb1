"""Planning: claim the tasks due soon, decide their occurrences, write them down.

In one transaction, before any call is made: the started tasks due within the lookahead
are claimed (one ``UPDATE … RETURNING``), each one's occurrences are planned
(:func:`apicron.engine.planning.plan_task`: misfires collapsed), the execution rows are
inserted (PENDING, unique per occurrence; MISSED ones finished at once) and the next fire
times advanced.

One bad task costs that task: a row that cannot be read or a schedule that cannot be
evaluated stops the task, with the reason stored and one line naming it; if the batch
write is refused for a value it holds (a constraint, a value a column refuses), each task
is written under its own savepoint, so the others are planned all the same. An error that
is not about the values (a missing table) fails the planning as a whole, for the engine
loop to report: it is never blamed on, and never stops, a task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from apicron.alerts.outbox import Recorded, record_results
from apicron.calendars.schedule import apply_calendars
from apicron.domain.alert_decisions import AlertFact
from apicron.domain.calendars import Calendar
from apicron.domain.errors import ApicronError
from apicron.domain.jitter import planned_time
from apicron.domain.misfire import Circumstances
from apicron.domain.models import StoredTask
from apicron.domain.schedules import schedule_of
from apicron.engine import metrics
from apicron.engine.calendar_outcomes import calendar_note, calendar_skips, join_notes
from apicron.engine.coalescing import MIN_INTERVAL, due_together, may_coalesce
from apicron.engine.dispatch import PlannedExecution
from apicron.engine.one_off import end_one_off_tasks
from apicron.engine.planning import plan_task
from apicron.engine.settings import EngineSettings
from apicron.logs import execution_ids
from apicron.services.context import new_id
from apicron.services.health import describe
from apicron.store.database import is_row_error
from apicron.store.records import NewExecution, TaskAdvance, UnreadableTask
from apicron.store.store import Queries

log = logging.getLogger("apicron.engine")


@dataclass
class _TaskPlan:
    """What planning one task writes: its rows, its advance, the executions to fire."""

    rows: list[NewExecution] = field(default_factory=list)
    advance: TaskAdvance | None = None
    planned: list[PlannedExecution] = field(default_factory=list)

    @property
    def awaiting_run(self) -> bool:
        """A one-off task whose run is now written down (it may be over already: MISSED)."""
        return self.advance is not None and self.advance.awaiting_run


@dataclass(frozen=True)
class PlanningResult:
    planned: list[PlannedExecution]
    earliest: datetime | None
    """The earliest next fire time of any started task after this planning."""
    full: bool
    """The claim was a full batch: more may be due at once."""
    alerts: Recorded = field(default_factory=Recorded)
    """What the occurrences recorded MISSED did to the tasks' alert rules."""


class Planner:
    def __init__(self, settings: EngineSettings):
        self._s = settings

    def plan(self, q: Queries, now: datetime, circumstances: Circumstances) -> PlanningResult:
        """Claim, plan and write in the transaction of ``q`` (the engine's DB thread)."""
        s = self._s
        claimed = q.claim_due_tasks(now, now + s.lookahead, now + s.lease, s.batch_size)
        # Issue 18: the calendars the claimed tasks follow, read once for the batch.
        calendars = q.calendars_by_id(sorted({i for t in claimed
                                              if isinstance(t, StoredTask)
                                              for i in t.calendar_ids}))
        plans = [self._plan_one(task, now, circumstances, calendars) for task in claimed]
        try:
            with q.connection.begin_nested():
                inserted = q.insert_executions([r for p in plans for r in p.rows])
                q.advance_tasks([p.advance for p in plans if p.advance is not None])
                if any(p.awaiting_run for p in plans):
                    end_one_off_tasks(q, now)
        except Exception as exc:
            if not is_row_error(exc):
                raise
            log.debug("planning batch refused (%s); writing task by task", describe(exc))
            inserted = self._write_each(q, claimed, plans)
        planned = [p for plan in plans for p in plan.planned if p.id in inserted]
        missed = [AlertFact(r.id, r.task_id, r.status, r.finished_at or now, None, r.error_msg)
                  for plan in plans for r in plan.rows
                  if r.status == "MISSED" and r.id in inserted]
        alerts = record_results(q, missed, now)
        return PlanningResult(planned, q.earliest_fire_time(), len(claimed) >= s.batch_size,
                              alerts)

    def _plan_one(
        self, task: StoredTask | UnreadableTask, now: datetime, circumstances: Circumstances,
        calendars: Mapping[str, Calendar],
    ) -> _TaskPlan:
        s = self._s
        if isinstance(task, UnreadableTask):
            return self._stop(task.id, task.name, task.next_fire_time,
                              f"its stored configuration cannot be read ({task.error})")
        assert task.next_fire_time is not None
        try:
            schedule = apply_calendars(
                schedule_of(task), [calendars[i] for i in task.calendar_ids if i in calendars],
                task.calendar_policy)
            plan = plan_task(
                schedule,
                task.next_fire_time,
                now=now,
                horizon=now + s.lookahead,
                grace=s.grace,
                misfire_policy=task.misfire_policy,
                max_missed=s.history_keep,
            )
        except ApicronError as exc:
            # A trigger that no longer evaluates (e.g. a zone gone from tzdata) stops its
            # task loudly instead of being retried forever.
            return self._stop(task.id, task.name, task.next_fire_time,
                              f"its schedule cannot be evaluated: {exc}")
        except Exception as exc:
            log.debug("planning task %s failed", task.id, exc_info=exc)
            return self._stop(task.id, task.name, task.next_fire_time,
                              f"its schedule could not be computed (internal error "
                              f"{type(exc).__name__}: {exc}; please report it)")
        # A task with no fire time left (past its end time) stops itself; a one-off task
        # stays STARTED until its run is over, then ends (apicron.engine.one_off).
        one_off = task.trigger_type == "AT"
        result = _TaskPlan(advance=TaskAdvance(
            task.id, task.next_fire_time, plan.next_fire,
            stop_reason=None if plan.next_fire or one_off
            else "no fire time left (past its end time)",
            awaiting_run=one_off and plan.next_fire is None,
        ))
        skipped = calendar_skips(schedule, plan.run + plan.missed)
        for at in plan.missed:
            if at in skipped:
                result.rows.append(skipped[at].row(task.id, now))
                continue
            result.rows.append(NewExecution(
                id=new_id(), task_id=task.id, scheduled_at=at, status="MISSED",
                created_at=now, finished_at=now,
                error_msg=circumstances.missed(at, now, task.misfire_policy),
            ))
        # Issue 18: fired at the planned time; the scheduled time stays its identity.
        planned_times = {at: planned_time(at, task.id, task.jitter_s, task.jitter_mode)
                         for at in plan.run if at not in skipped}
        # Of the occurrences due already, only the latest runs (apicron.engine.coalescing).
        superseded, latest_due = due_together(planned_times.items(), now)
        superseded = {at: later for at, later in superseded.items()
                      if may_coalesce(planned_times[at], now, circumstances)}
        for at in plan.run:
            if at in skipped:
                result.rows.append(skipped[at].row(task.id, now))
                continue
            planned_at = planned_times[at]
            if at in superseded:
                result.rows.append(NewExecution(
                    id=new_id(), task_id=task.id, scheduled_at=at, status="MISSED",
                    created_at=now, finished_at=now,
                    error_msg=circumstances.coalesced(planned_at, now, superseded[at]),
                ))
                metrics.MISSED.inc()
                continue
            late = None
            if at == plan.late:
                late = circumstances.late(at, now)
            elif at == latest_due and (superseded or now - planned_at >= MIN_INTERVAL):
                late = circumstances.found_late(planned_at, now, coalesced=bool(superseded))
            note = join_notes(late, calendar_note(schedule, at))
            execution = PlannedExecution(new_id(), task, at, "SCHEDULE", note=note,
                                         planned_at=planned_at)
            result.rows.append(NewExecution(
                id=execution.id, task_id=task.id, scheduled_at=at, status="PENDING",
                created_at=now, claimed_by=s.node_id, lease_until=now + s.lease, note=note,
                planned_at=planned_at,
            ))
            result.planned.append(execution)
        metrics.MISSED.inc(len(plan.missed))
        return result

    @staticmethod
    def _stop(
        task_id: str, name: str, next_fire: datetime | None, reason: str
    ) -> _TaskPlan:
        log.error("task %s (%s) stopped: %s", name, task_id, reason,
                  extra=execution_ids(task_id))
        return _TaskPlan(advance=TaskAdvance(task_id, next_fire, None, stop_reason=reason))

    def _write_each(
        self, q: Queries, claimed: list[StoredTask | UnreadableTask], plans: list[_TaskPlan]
    ) -> set[str]:
        inserted: set[str] = set()
        for task, plan in zip(claimed, plans, strict=True):
            try:
                with q.connection.begin_nested():
                    inserted |= q.insert_executions(plan.rows)
                    q.advance_tasks([plan.advance] if plan.advance else [])
                continue
            except Exception as exc:
                if not is_row_error(exc):
                    raise
                reason = f"its occurrences could not be written ({describe(exc)})"
            stop = self._stop(task.id, task.name, task.next_fire_time, reason)
            with q.connection.begin_nested():
                q.advance_tasks([stop.advance] if stop.advance else [])
        return inserted
