"""The engine's queries: claiming due tasks, the execution queue, results and history.

The executions table is the queue. A row is written (PENDING) before its call is made,
so an accepted occurrence is never lost; the partial unique index on
(task_id, scheduled_at) for SCHEDULE rows makes a double fire impossible even when two
engines plan the same occurrence. Claims are conditional ``UPDATE … RETURNING``
statements, so two engines never take the same row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from apicron.domain.models import Attempt, Execution, ExecutionSummary, StoredTask
from apicron.domain.vocabulary import UNFINISHED
from apicron.store.records import (
    AttemptRecord,
    ExecutionChange,
    ExecutionOutcome,
    ExecutionProgress,
    NewExecution,
    QueuedExecution,
    TaskAdvance,
    UnreadableTask,
    row_values,
)
from apicron.store.tables import attempts, executions, tasks

# The pg_advisory_xact_lock key that serializes claim_queued across nodes ("apicclm").
_CLAIM_LOCK = 0x61706963636C6D

_INSERT_EXECUTIONS: dict[str, Any] = {
    "sqlite": sqlite.insert(executions).on_conflict_do_nothing().returning(executions.c.id),
    "postgresql": postgresql.insert(executions)
    .on_conflict_do_nothing()
    .returning(executions.c.id),
}
_INSERT_ATTEMPTS: dict[str, Any] = {
    "sqlite": sqlite.insert(attempts).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(attempts).on_conflict_do_nothing(),
}
_CHUNK = 500  # keeps IN lists and multi-row statements well under SQLite's variable limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class ExecutionQueries:
    connection: Connection

    # -- planning ----------------------------------------------------------------------------

    def claim_due_tasks(
        self, now: datetime, horizon: datetime, claim_until: datetime, limit: int
    ) -> list[StoredTask | UnreadableTask]:
        """Claim started tasks whose next fire time is at or before ``horizon``.

        One atomic statement; on PostgreSQL the inner select skips rows another engine
        holds locked. A row that no longer reads as a task is returned as an
        :class:`UnreadableTask` (claimed too), so that it costs that task, not the claim.
        """
        due = (
            select(tasks.c.id)
            .where(
                tasks.c.next_fire_time <= horizon,
                tasks.c.status == "STARTED",
                or_(tasks.c.claimed_until.is_(None), tasks.c.claimed_until < now),
            )
            .order_by(tasks.c.next_fire_time)
            .limit(limit)
        )
        if self.connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(tasks)
            .where(tasks.c.id.in_(due.scalar_subquery()))
            .values(claimed_until=claim_until)
            .returning(*tasks.c)
        )
        claimed: list[StoredTask | UnreadableTask] = []
        for row in self.connection.execute(statement).mappings():
            try:
                claimed.append(StoredTask.model_validate(dict(row)))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first.get("loc", ()))
                claimed.append(UnreadableTask(
                    id=row["id"], name=str(row["name"]), next_fire_time=row["next_fire_time"],
                    error=f"{where}: {first.get('msg', 'invalid')}",
                ))
        return sorted(claimed, key=lambda t: (t.next_fire_time or now, t.id))

    def advance_tasks(self, advances: Sequence[TaskAdvance]) -> None:
        """Store each claimed task's next fire time (a task with none left stops, with its
        reason) and release its claim; a stop or start that came in between wins."""
        if not advances:
            return
        statement = (
            update(tasks)
            .where(
                tasks.c.id == bindparam("task_id"),
                tasks.c.status == "STARTED",
                tasks.c.next_fire_time == bindparam("previous"),
            )
            .values(
                next_fire_time=bindparam("next_fire_time"),
                status=bindparam("new_status"),
                stop_reason=bindparam("new_stop_reason"),
                claimed_until=None,
            )
        )
        self.connection.execute(
            statement,
            [
                {
                    "task_id": a.task_id,
                    "previous": a.previous,
                    "next_fire_time": a.next_fire_time,
                    "new_status": a.status,
                    "new_stop_reason": a.stop_reason,
                }
                for a in advances
            ],
        )

    def earliest_fire_time(self) -> datetime | None:
        # The first entry of the (status, next_fire_time) index.
        value: datetime | None = self.connection.execute(
            select(func.min(tasks.c.next_fire_time)).where(tasks.c.status == "STARTED")
        ).scalar_one()
        return value

    def insert_executions(self, rows: Sequence[NewExecution]) -> set[str]:
        """Insert execution rows; an occurrence already recorded is skipped, not doubled.

        Returns the ids actually inserted.
        """
        if not rows:
            return set()
        values = [{**row_values(r), "attempts": 0, "started_at": None,
                   "error_kind": None} for r in rows]
        # One statement for any number of rows (executemany with RETURNING): SQLAlchemy
        # batches it and compiles it once, where a multi-row VALUES would recompile for
        # every new row count.
        statement = _INSERT_EXECUTIONS.get(self.connection.dialect.name)
        if statement is None:
            statement = insert(executions).returning(executions.c.id)
        return set(self.connection.execute(statement, values).scalars())

    # -- firing --------------------------------------------------------------------------------

    def tasks_with_running(self, task_ids: Sequence[str], *, exclude_node: str) -> set[str]:
        """Tasks with an execution RUNNING on another node (a node knows its own)."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(task_ids))):
            found.update(
                self.connection.execute(
                    select(executions.c.task_id)
                    .where(
                        executions.c.task_id.in_(chunk),
                        executions.c.status == "RUNNING",
                        executions.c.claimed_by != exclude_node,
                        # Issue 18: a backfill runs beside the schedule (no overlap rule).
                        executions.c.trigger != "BACKFILL",
                    )
                    .distinct()
                ).scalars()
            )
        return found

    def superseded(
        self, stale: Sequence[tuple[str, datetime]], now: datetime
    ) -> set[tuple[str, datetime]]:
        """Of overdue occurrences ``(task_id, scheduled_at)``, those a later occurrence of
        the same task supersedes: a later one already due is recorded, or the task's next
        fire time has come too (its planning will run the latest). A later occurrence
        planned ahead but not yet due supersedes nothing: the overdue one is still the
        latest missed. Misfire RUN_ONCE runs only the latest missed occurrence
        (DESIGN.md, Misfire)."""
        if not stale:
            return set()
        task_ids = sorted({task_id for task_id, _ in stale})
        latest: dict[str, datetime] = {}
        due: set[str] = set()
        for chunk in _chunks(task_ids):
            latest.update(
                (task_id, at) for task_id, at in self.connection.execute(
                    select(executions.c.task_id, func.max(executions.c.scheduled_at))
                    .where(executions.c.task_id.in_(chunk),
                           executions.c.trigger == "SCHEDULE",
                           executions.c.scheduled_at <= now)
                    .group_by(executions.c.task_id)
                )
            )
            due.update(self.connection.execute(
                select(tasks.c.id).where(tasks.c.id.in_(chunk), tasks.c.status == "STARTED",
                                         tasks.c.next_fire_time <= now)
            ).scalars())
        return {
            (task_id, at) for task_id, at in stale
            if task_id in due or (task_id in latest and latest[task_id] > at)
        }

    def set_notes(self, notes: Mapping[str, str]) -> None:
        """Say on each execution how it came to run as it did."""
        if notes:
            self.connection.execute(
                update(executions).where(executions.c.id == bindparam("execution_id"))
                .values(note=bindparam("new_note")),
                [{"execution_id": i, "new_note": n} for i, n in notes.items()],
            )

    def mark_running(
        self, execution_ids: Sequence[str], node: str, now: datetime, lease_until: datetime
    ) -> set[str]:
        """PENDING → RUNNING at fire time; an execution a stop discarded is not returned."""
        started: set[str] = set()
        for chunk in _chunks(execution_ids):
            result = self.connection.execute(
                update(executions)
                .where(executions.c.id.in_(chunk), executions.c.status == "PENDING")
                .values(status="RUNNING", started_at=now, claimed_by=node, lease_until=lease_until)
                .returning(executions.c.id)
            )
            started.update(result.scalars())
        return started

    def close_pending(self, messages: Mapping[str, str], status: str, now: datetime) -> None:
        """Finish planned executions that will not run (SKIPPED, MISSED), each with its
        message (``{execution_id: error_msg}``), unless they started meanwhile (another
        node took them over and fired them)."""
        ids = list(messages)
        for chunk in _chunks(ids):
            self.connection.execute(
                update(executions)
                .where(executions.c.id == bindparam("execution_id"),
                       executions.c.status == "PENDING")
                .values(status=status, finished_at=now, error_msg=bindparam("new_error_msg"),
                        claimed_by=None, lease_until=None),
                [{"execution_id": i, "new_error_msg": messages[i]} for i in chunk],
            )

    def insert_manual_execution(self, execution_id: str, task_id: str, now: datetime) -> None:
        """Queued unclaimed: whichever engine takes it first runs it."""
        self.connection.execute(
            insert(executions).values(
                id=execution_id, task_id=task_id, scheduled_at=now, trigger="MANUAL",
                status="PENDING", attempts=0, started_at=None, finished_at=None,
                error_kind=None, error_msg=None, claimed_by=None, lease_until=None,
                created_at=now,
            )
        )

    def discard_pending(
        self, task_id: str, now: datetime, missed_msg: Callable[[datetime], str]
    ) -> int:
        """Stop: planned occurrences that have not started will not fire.

        Those still ahead are deleted: the stop wins over the fence. Those already due
        (the engine had not fired them yet: behind schedule, or their node stopped) are
        recorded MISSED with ``missed_msg(scheduled_at)``, so the history keeps every
        occurrence that was due up to the stop. Returns how many were deleted.
        """
        pending = and_(
            executions.c.task_id == task_id,
            executions.c.status == "PENDING",
            executions.c.trigger == "SCHEDULE",
        )
        due = self.connection.execute(
            select(executions.c.id, executions.c.scheduled_at)
            .where(pending, executions.c.scheduled_at <= now)
        ).all()
        self.close_pending({i: missed_msg(at) for i, at in due}, "MISSED", now)
        result = self.connection.execute(delete(executions).where(pending))
        return result.rowcount

    def claim_queued(
        self,
        node: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        *,
        all_foreign: bool,
        foreign: bool = True,
    ) -> list[QueuedExecution]:
        """Take unfinished executions nobody holds: new manual runs, handed-back work and
        orphans.

        An orphan is one whose lease expired (its engine died). ``foreign=False`` takes only
        this node's own expired ones (just after a database outage, when the others may
        not have renewed theirs yet). ``all_foreign`` also takes every execution held by
        another node, which is right on start-up of a single-node (SQLite) instance: no
        other engine can be alive.
        """
        expired = executions.c.lease_until < now
        if not foreign:
            expired = and_(expired, executions.c.claimed_by == node)
        free = or_(
            executions.c.claimed_by.is_(None),
            expired,
            executions.c.claimed_by != node if all_foreign else expired,
        )
        claimable = [executions.c.status.in_(UNFINISHED), free]
        if not all_foreign:
            # Issue 18: a SEQUENTIAL backfill runs one execution at a time, and only the
            # engine holding them keeps that order. So no part of a sequence another live
            # node holds is taken; once that node is done with its part, the rest is free.
            other = executions.alias("held")
            held_elsewhere = select(other.c.sequence_id).where(
                other.c.sequence_id.is_not(None),
                other.c.status.in_(UNFINISHED),
                other.c.claimed_by.is_not(None),
                other.c.claimed_by != node,
                other.c.lease_until >= now,
            )
            claimable.append(or_(executions.c.sequence_id.is_(None),
                                 executions.c.sequence_id.not_in(held_elsewhere)))
        candidates = (
            select(executions.c.id)
            .where(*claimable)
            .order_by(executions.c.scheduled_at)
            .limit(limit)
        )
        if self.connection.dialect.name == "postgresql":
            # Claims are taken one node at a time: two nodes claiming at once would each
            # see no holder of a sequence and take different parts of it. (SQLite has one
            # writer already.) The lock ends with the transaction.
            self.connection.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            candidates = candidates.with_for_update(skip_locked=True)
        rows = self.connection.execute(
            update(executions)
            .where(executions.c.id.in_(candidates.scalar_subquery()))
            .values(claimed_by=node, lease_until=lease_until)
            .returning(
                executions.c.id, executions.c.task_id, executions.c.scheduled_at,
                executions.c.trigger, executions.c.status, executions.c.attempts,
                executions.c.started_at, executions.c.note, executions.c.planned_at,
                executions.c.sequence_id,
            )
        ).mappings()
        return [QueuedExecution(**r) for r in rows]

    def renew_leases(self, node: str, execution_ids: Sequence[str], lease_until: datetime) -> None:
        for chunk in _chunks(execution_ids):
            self.connection.execute(
                update(executions)
                .where(executions.c.id.in_(chunk), executions.c.claimed_by == node)
                .values(lease_until=lease_until)
            )

    # -- results -------------------------------------------------------------------------------

    def lock_executions(self, execution_ids: Iterable[str]) -> set[str]:
        """Those of ``execution_ids`` that still exist, kept from deletion until the
        transaction ends (PostgreSQL: FOR KEY SHARE; SQLite's write lock does it): a task
        deleted meanwhile took its executions with it, and their results go nowhere."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(execution_ids))):
            statement = select(executions.c.id).where(executions.c.id.in_(chunk))
            if self.connection.dialect.name == "postgresql":
                statement = statement.with_for_update(read=True, key_share=True)
            found.update(self.connection.execute(statement).scalars())
        return found

    def insert_attempts(self, rows: Sequence[AttemptRecord]) -> None:
        """Record attempts; one recorded already under the same number (by the node that
        took the execution over) is kept, not doubled."""
        if rows:
            statement = _INSERT_ATTEMPTS.get(self.connection.dialect.name, insert(attempts))
            self.connection.execute(statement, [row_values(r) for r in rows])

    def update_executions(
        self, changes: Sequence[ExecutionChange], *, held_by: str | None = None
    ) -> None:
        """Write execution progress and outcomes (an outcome releases the claim); with
        ``held_by``, only to executions that node still holds (or that an earlier change
        of the same batch released)."""
        progress = [c for c in changes if isinstance(c, ExecutionProgress)]
        outcomes = [c for c in changes if isinstance(c, ExecutionOutcome)]
        # In the order they were made: an execution's progress comes before its outcome.
        for kind, group in ((ExecutionProgress, progress), (ExecutionOutcome, outcomes)):
            if not group:
                continue
            columns = [f.name for f in dataclasses.fields(kind) if f.name != "execution_id"]
            values: dict[str, Any] = {c: bindparam(f"new_{c}") for c in columns}
            if kind is ExecutionOutcome:
                values |= {"claimed_by": None, "lease_until": None}
            statement = (
                update(executions)
                .where(executions.c.id == bindparam("execution_id"))
                .values(values)
            )
            if held_by is not None:
                statement = statement.where(
                    or_(executions.c.claimed_by == held_by, executions.c.claimed_by.is_(None))
                )
            self.connection.execute(
                statement,
                [
                    {"execution_id": c.execution_id,
                     **{f"new_{name}": getattr(c, name) for name in columns}}
                    for c in group
                ],
            )

    # -- reading history -----------------------------------------------------------------------

    def list_executions(
        self,
        task_id: str,
        *,
        status: str | None,
        start: datetime | None,
        end: datetime | None,
        offset: int,
        limit: int,
        trigger: str | None = None,
    ) -> tuple[int, list[ExecutionSummary]]:
        conditions = [executions.c.task_id == task_id]
        if status:
            conditions.append(executions.c.status == status)
        if trigger:
            conditions.append(executions.c.trigger == trigger)
        if start:
            conditions.append(executions.c.scheduled_at >= start)
        if end:
            conditions.append(executions.c.scheduled_at < end)
        where = and_(*conditions)
        total = self.connection.execute(
            select(func.count()).select_from(executions).where(where)
        ).scalar_one()
        rows = self.connection.execute(
            select(executions)
            .where(where)
            .order_by(executions.c.scheduled_at.desc(), executions.c.created_at.desc())
            .offset(offset)
            .limit(limit)
        ).mappings()
        return total, [ExecutionSummary.model_validate(dict(r)) for r in rows]

    def get_execution(self, execution_id: str) -> Execution | None:
        row = self.connection.execute(
            select(executions).where(executions.c.id == execution_id)
        ).mappings().first()
        if row is None:
            return None
        summary = ExecutionSummary.model_validate(dict(row))
        return self.with_attempts([summary])[0]

    def with_attempts(self, summaries: Sequence[ExecutionSummary]) -> list[Execution]:
        found: dict[str, list[Attempt]] = {s.id: [] for s in summaries}
        for chunk in _chunks(list(found)):
            rows = self.connection.execute(
                select(attempts)
                .where(attempts.c.execution_id.in_(chunk))
                .order_by(attempts.c.execution_id, attempts.c.number)
            ).mappings()
            for a in rows:
                found[a["execution_id"]].append(Attempt.model_validate(dict(a)))
        return [
            Execution(**s.model_dump(), attempts=found[s.id]) for s in summaries
        ]

    def last_executions(self, task_ids: Sequence[str]) -> dict[str, ExecutionSummary]:
        """The latest execution of each task (by scheduled time), for task listings."""
        if not task_ids:
            return {}
        ranked = (
            select(
                executions,
                func.row_number()
                .over(
                    partition_by=executions.c.task_id,
                    order_by=(executions.c.scheduled_at.desc(), executions.c.created_at.desc()),
                )
                .label("rank"),
            )
            .where(executions.c.task_id.in_(list(task_ids)))
            .subquery()
        )
        rows = self.connection.execute(select(ranked).where(ranked.c.rank == 1)).mappings()
        return {r["task_id"]: ExecutionSummary.model_validate(dict(r)) for r in rows}

    # -- pruning -------------------------------------------------------------------------------

    def prune_executions(self, older_than: datetime, keep_per_task: int) -> int:
        """Delete finished executions older than ``older_than`` or beyond the newest N."""
        finished = executions.c.status.not_in(UNFINISHED)
        # Issue 18: a backfill or replay of an old occurrence ages from when it ran, not
        # from its occurrence (else its history would be pruned as soon as it finished).
        rerun = executions.c.trigger.in_(("BACKFILL", "REPLAY"))
        removed = self.connection.execute(
            delete(executions).where(
                finished, executions.c.scheduled_at < older_than,
                or_(~rerun, executions.c.finished_at < older_than),
            )
        ).rowcount
        ranked = (
            select(
                executions.c.id,
                func.row_number()
                .over(
                    partition_by=executions.c.task_id,
                    order_by=(executions.c.scheduled_at.desc(), executions.c.created_at.desc()),
                )
                .label("rank"),
            )
            .where(finished)
            .subquery()
        )
        surplus = select(ranked.c.id).where(ranked.c.rank > keep_per_task)
        removed += self.connection.execute(
            delete(executions).where(executions.c.id.in_(surplus.scalar_subquery()))
        ).rowcount
        return removed
