"""One-off tasks (issue 18, trigger AT) in the engine: fired once at run_at, by the misfire
rules like any occurrence, then COMPLETED or deleted with their history kept; also across
engine restarts. Driven clock, real store (SQLite and PostgreSQL), real backend on loopback.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from apicron.domain.errors import Conflict, NotFound
from apicron.services import executions, tasks
from tests.engine_harness import START, Harness, scenario


def at(minutes: int = 0, seconds: int = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


def one_off(h: Harness, run_at: datetime, **fields: object) -> str:
    return h.task(h.api(), trigger_type="AT", cron_expression=None, run_at=run_at, **fields)


def received_times(h: Harness) -> list[str]:
    return [r["headers"]["X-Apicron-Scheduled-Time"] for r in h.backend.received]


def all_history(h: Harness, task_id: str) -> list[tuple[datetime, str]]:
    page = executions.list_executions(h.ctx, task_id, status=None, start=None, end=None,
                                      offset=0, limit=100)
    return sorted((e.scheduled_at, e.status) for e in page.items)


@scenario
async def test_a_one_off_task_fires_once_at_run_at_and_completes(h: Harness) -> None:
    task_id = one_off(h, at(seconds=30))
    await h.advance(29)
    assert h.backend.received == []
    assert tasks.get_task(h.ctx, task_id).status == "STARTED"
    await h.advance(2)
    assert received_times(h) == ["2027-03-01T08:00:30Z"]
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")
    task = tasks.get_task(h.ctx, task_id)
    assert task.next_fire_time is None and task.stop_reason is None
    assert all_history(h, task_id) == [(at(seconds=30), "SUCCEEDED")]
    await h.advance(120, step=10)
    assert len(h.backend.received) == 1


@scenario
async def test_a_failed_one_off_run_completes_the_task_too(h: Harness) -> None:
    h.backend.responses = [(500, {}, "down")]
    task_id = one_off(h, at(seconds=5))
    await h.advance(8)
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")
    assert all_history(h, task_id) == [(at(seconds=5), "FAILED")]


@scenario
async def test_with_delete_the_task_goes_and_its_history_stays(h: Harness) -> None:
    task_id = one_off(h, at(seconds=10), after_completion="DELETE")
    await h.advance(12)
    assert received_times(h) == ["2027-03-01T08:00:10Z"]

    def gone() -> bool:
        try:
            tasks.get_task(h.ctx, task_id)
        except NotFound:
            return True
        return False

    await h.eventually(gone)
    assert all_history(h, task_id) == [(at(seconds=10), "SUCCEEDED")]
    (execution_id,) = [e.id for e in executions.list_executions(
        h.ctx, task_id, status=None, start=None, end=None, offset=0, limit=10).items]
    assert executions.get_execution(h.ctx, execution_id).status == "SUCCEEDED"
    with pytest.raises(NotFound):
        executions.list_executions(h.ctx, "0" * 32, status=None, start=None, end=None,
                                   offset=0, limit=10)


@scenario
async def test_a_user_deleting_a_task_deletes_its_history(h: Harness) -> None:
    """Executions no longer reference tasks by a foreign key (0009): the store deletes
    them itself when a user deletes a task."""
    task_id = h.task(h.api())
    await h.advance(3)
    assert all_history(h, task_id)
    tasks.stop_task(h.ctx, task_id)
    tasks.delete_task(h.ctx, task_id)
    with pytest.raises(NotFound):
        executions.list_executions(h.ctx, task_id, status=None, start=None, end=None,
                                   offset=0, limit=10)


@scenario
async def test_the_occurrence_is_planned_from_the_store_across_an_engine_restart(
    h: Harness,
) -> None:
    task_id = one_off(h, at(minutes=5))
    await h.advance(60, step=10)
    await h.stop_engine()
    h.clock.advance(timedelta(minutes=3))
    await h.start_engine()
    await h.advance(70, step=5)
    assert received_times(h) == ["2027-03-01T08:05:00Z"]
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")


@scenario
async def test_a_planned_occurrence_handed_back_at_a_stop_fires_once_after_restart(
    h: Harness,
) -> None:
    """Planned (PENDING, next fire time cleared) when the engine stops: the row is handed
    back, taken again at start and fired once; the task completes then."""
    task_id = one_off(h, at(seconds=20))
    await h.advance(19)
    assert h.backend.received == []
    assert tasks.get_task(h.ctx, task_id).next_fire_time is None  # planned
    await h.stop_engine()
    await h.start_engine()
    await h.advance(5)
    assert received_times(h) == ["2027-03-01T08:00:20Z"]
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")
    assert all_history(h, task_id) == [(at(seconds=20), "SUCCEEDED")]


@scenario
async def test_down_past_the_grace_run_once_runs_it_late(h: Harness) -> None:
    task_id = one_off(h, at(minutes=2))
    await h.advance(30)
    await h.stop_engine()
    h.clock.advance(timedelta(minutes=10))
    await h.start_engine()
    await h.settle()
    await h.advance(2)
    assert received_times(h) == ["2027-03-01T08:02:00Z"]
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")
    (execution,) = executions.list_executions(
        h.ctx, task_id, status=None, start=None, end=None, offset=0, limit=10).items
    assert execution.status == "SUCCEEDED" and "late" in (execution.note or "")


@scenario
async def test_down_past_the_grace_skip_records_it_missed_and_completes(h: Harness) -> None:
    task_id = one_off(h, at(minutes=2), misfire_policy="SKIP")
    await h.advance(30)
    await h.stop_engine()
    h.clock.advance(timedelta(minutes=10))
    await h.start_engine()
    await h.advance(3)
    assert h.backend.received == []
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")
    assert all_history(h, task_id) == [(at(minutes=2), "MISSED")]


@scenario
async def test_a_completed_task_starts_again_only_with_a_future_run_at(h: Harness) -> None:
    task_id = one_off(h, at(seconds=5))
    await h.advance(7)
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")
    with pytest.raises(Conflict) as refused:
        tasks.start_task(h.ctx, task_id)
    assert refused.value.field == "run_at" and "has passed" in refused.value.message
    from apicron.domain.models import TaskUpdate

    tasks.update_task(h.ctx, task_id, TaskUpdate(run_at=at(minutes=1)))
    assert tasks.start_task(h.ctx, task_id).status == "STARTED"
    await h.advance(60, step=5)
    assert received_times(h) == ["2027-03-01T08:00:05Z", "2027-03-01T08:01:00Z"]
    await h.eventually(lambda: tasks.get_task(h.ctx, task_id).status == "COMPLETED")


@scenario
async def test_stopping_before_the_run_keeps_it_from_firing(h: Harness) -> None:
    task_id = one_off(h, at(minutes=1))
    await h.advance(10)
    assert tasks.stop_task(h.ctx, task_id).status == "STOPPED"
    await h.advance(90, step=10)
    assert h.backend.received == []
    assert tasks.get_task(h.ctx, task_id).status == "STOPPED"
