"""Jitter (issue 18) in the engine: fires spread over the window, the nominal time kept as
the occurrence's identity, stable offsets identical across engines (restarts, nodes).
Measured spread, no timing assertions. Driven clock, real store (SQLite and PostgreSQL),
real backend on loopback.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from apicron.domain.jitter import stable_offset_ms
from apicron.services import executions
from apicron.store.tables import executions as executions_table
from tests.engine_harness import START, Harness, scenario


def planned_offsets(h: Harness, scheduled_at: datetime) -> dict[str, int]:
    """Each task's planned offset (ms) for its occurrence at ``scheduled_at``, from the store."""
    with h.ctx.store.read() as q:
        rows = q.connection.execute(
            select(executions_table.c.task_id, executions_table.c.planned_at)
            .where(executions_table.c.scheduled_at == scheduled_at)
        ).all()
    return {task_id: int((planned - scheduled_at) / timedelta(milliseconds=1))
            for task_id, planned in rows}


@scenario
async def test_a_thousand_stable_tasks_at_one_second_spread_over_the_window(
    h: Harness,
) -> None:
    window_s = 600
    owned = h.api()
    ids = [h.task(owned, cron_expression="0 0 9 * * ?", jitter_s=window_s,
                  jitter_mode="STABLE") for _ in range(1000)]
    # Within the engine's plan lead of 09:00: planned in batches of its claim size.
    h.clock.advance(timedelta(minutes=59, seconds=59))
    await h.settle()
    nine = START + timedelta(hours=1)
    await h.eventually(lambda: len(planned_offsets(h, nine)) == len(ids), limit=60)
    offsets = planned_offsets(h, nine)
    assert set(offsets) == set(ids)
    window_ms = window_s * 1000
    assert all(0 <= o < window_ms for o in offsets.values())
    assert all(offsets[i] == stable_offset_ms(i, window_s) for i in ids)
    # Spread: nearly all distinct, both ends of the window reached, every tenth of it used
    # about equally (each tenth holds 100 on average; 50-150 is over five deviations).
    assert len(set(offsets.values())) >= 990
    assert min(offsets.values()) < window_ms * 0.02
    assert max(offsets.values()) > window_ms * 0.98
    tenths = Counter(o * 10 // window_ms for o in offsets.values())
    assert sorted(tenths) == list(range(10))
    assert all(50 <= n <= 150 for n in tenths.values()), tenths


@scenario
async def test_stable_offsets_are_the_same_after_a_restart_and_random_ones_vary(
    h: Harness,
) -> None:
    owned = h.api()
    stable = [h.task(owned, cron_expression="0 * * * * ?", jitter_s=50, jitter_mode="STABLE",
                     effective_time=START + timedelta(seconds=1)) for _ in range(10)]
    drawn = [h.task(owned, cron_expression="0 * * * * ?", jitter_s=50, jitter_mode="RANDOM",
                    effective_time=START + timedelta(seconds=1)) for _ in range(10)]
    first, second = START + timedelta(minutes=1), START + timedelta(minutes=2)
    await h.advance(59)
    before = planned_offsets(h, first)
    # Another engine (a restart, a new node id) plans the next occurrence.
    await h.stop_engine()
    await h.start_engine()
    await h.advance(60, step=2)
    after = planned_offsets(h, second)
    assert {i: before[i] for i in stable} == {i: after[i] for i in stable}
    assert all(before[i] == stable_offset_ms(i, 50) for i in stable)
    assert any(before[i] != after[i] for i in drawn)


@scenario
async def test_the_backend_gets_the_nominal_time_at_the_planned_time(h: Harness) -> None:
    task_id = h.task(h.api(), cron_expression="0 1 8 * * ?", jitter_s=30,
                     jitter_mode="STABLE")
    offset = timedelta(milliseconds=stable_offset_ms(task_id, 30))
    nominal = START + timedelta(minutes=1)
    await h.advance(60)
    assert (nominal + offset > h.clock.now()) == (h.backend.received == [])
    await h.advance(31)
    (received,) = h.backend.received
    assert received["headers"]["X-Apicron-Scheduled-Time"] == "2027-03-01T08:01:00Z"
    (execution,) = executions.list_executions(
        h.ctx, task_id, status=None, start=None, end=None, offset=0, limit=10).items
    assert execution.scheduled_at == nominal
    assert execution.planned_at == nominal + offset
    assert execution.started_at is not None and execution.started_at >= nominal + offset
