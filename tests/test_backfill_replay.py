"""Backfill and replay (issue 18): past occurrences run with their own scheduled times
(so the request variables are theirs), stored before they run (a restart loses none),
occurrences that succeeded left alone, a replay a new execution linked to its original.
Engine tests: driven clock, real store, real backend on loopback."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from apicron.domain.backfill import BackfillRequest
from apicron.domain.errors import Conflict, InvalidInput
from apicron.domain.models import TaskCreate
from apicron.domain.validation import validate
from apicron.services import backfill, executions, tasks
from tests.conftest import unique
from tests.engine_harness import START, Harness

HOUR = timedelta(hours=1)


def _rfc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hourly_task(h: Harness, **fields: Any) -> str:
    """An hourly task that took effect three days ago, not started (a backfill runs in any
    state), sending its window as query parameters."""
    spec = {
        "name": unique("task"), "trigger_type": "CRON", "cron_expression": "0 0 * * * ?",
        "effective_time": START - 72 * HOUR, **h.api(method="GET"),
        "request": {"query": [{"name": "from", "value": "{{window_start}}"},
                              {"name": "to", "value": "{{window_end}}"},
                              {"name": "at", "value": "{{scheduled_time}}"}]},
        **fields,
    }
    return tasks.create_task(h.ctx, TaskCreate.model_validate(spec)).id


def _spec(**fields: Any) -> BackfillRequest:
    return validate(BackfillRequest, fields)


def _windows(h: Harness) -> list[tuple[str, str]]:
    return [(dict(r["query"])["from"], dict(r["query"])["to"]) for r in h.backend.received]


def _backfills(h: Harness, task_id: str) -> list[Any]:
    page = executions.list_executions(h.ctx, task_id, status=None, start=None, end=None,
                                      offset=0, limit=500)
    return sorted((e for e in page.items if e.trigger == "BACKFILL"),
                  key=lambda e: e.scheduled_at)


def _expected_windows(first: datetime, count: int) -> list[tuple[str, str]]:
    return [(_rfc(first + (k - 1) * HOUR), _rfc(first + k * HOUR)) for k in range(count)]


@pytest.mark.parametrize("mode", ["SEQUENTIAL", "PARALLEL"])
def test_a_backfill_of_48_hourly_occurrences_runs_48_with_their_windows(
    tmp_path: Path, database_url: str | None, mode: str
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            task_id = _hourly_task(h)
            first = START - 48 * HOUR
            result = backfill.backfill_task(h.ctx, task_id, _spec(
                **{"from": _rfc(first), "to": _rfc(START), "mode": mode}))
            assert (result.queued, result.first, result.last) == (48, first, START - HOUR)
            assert (result.sequence_id is not None) == (mode == "SEQUENTIAL")
            await h.eventually(lambda: len(h.backend.received) >= 48, limit=60)
            await h.settle()
            windows = _windows(h)
            assert len(windows) == 48
            expected = _expected_windows(first, 48)
            if mode == "SEQUENTIAL":
                assert windows == expected  # one after the other, in time order
            else:
                assert sorted(windows) == expected
            runs = _backfills(h, task_id)
            assert [e.scheduled_at for e in runs] == [first + k * HOUR for k in range(48)]
            assert {e.status for e in runs} == {"SUCCEEDED"}

    asyncio.run(main())


def test_occurrences_that_succeeded_are_left_alone_unless_asked(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            task_id = _hourly_task(h)
            span = {"from": _rfc(START - 6 * HOUR), "to": _rfc(START - 2 * HOUR)}
            done = backfill.backfill_task(h.ctx, task_id, _spec(**span, mode="PARALLEL"))
            assert done.queued == 4
            await h.eventually(lambda: len(h.backend.received) == 4)
            await h.settle()
            wider = {"from": _rfc(START - 8 * HOUR), "to": _rfc(START)}
            dry = backfill.backfill_task(h.ctx, task_id, _spec(**wider, dry_run=True))
            assert (dry.queued, dry.skipped_succeeded, dry.dry_run) == (4, 4, True)
            assert len(_backfills(h, task_id)) == 4  # a dry run stores nothing
            again = backfill.backfill_task(h.ctx, task_id, _spec(**wider))
            assert (again.queued, again.skipped_succeeded) == (4, 4)
            assert (again.first, again.last) == (START - 8 * HOUR, START - HOUR)
            await h.eventually(lambda: len(h.backend.received) == 8)
            rerun = backfill.backfill_task(h.ctx, task_id, _spec(
                **span, rerun_succeeded=True, mode="PARALLEL"))
            assert (rerun.queued, rerun.skipped_succeeded) == (4, 0)
            await h.eventually(lambda: len(h.backend.received) == 12)
            await h.settle()
            per_occurrence = Counter(e.scheduled_at for e in _backfills(h, task_id))
            assert sorted(per_occurrence.values()) == [1] * 4 + [2] * 4

    asyncio.run(main())


def test_queued_backfill_executions_survive_a_restart(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            task_id = _hourly_task(h)
            await h.stop_engine()
            first = START - 10 * HOUR
            # Accepted while no engine runs: stored, not held in anyone's memory.
            backfill.backfill_task(h.ctx, task_id, _spec(
                **{"from": _rfc(first), "to": _rfc(START)}))
            # The same range again while they wait: nothing is queued twice.
            twice = backfill.backfill_task(h.ctx, task_id, _spec(
                **{"from": _rfc(first), "to": _rfc(START)}))
            assert (twice.queued, twice.skipped_in_progress) == (0, 10)
            assert {e.status for e in _backfills(h, task_id)} == {"PENDING"}
            await h.start_engine()
            await h.eventually(lambda: len(h.backend.received) >= 10, limit=30)
            await h.settle()
            assert _windows(h) == _expected_windows(first, 10)
            assert {e.status for e in _backfills(h, task_id)} == {"SUCCEEDED"}

    asyncio.run(main())


def test_a_sequential_backfill_interrupted_by_a_stop_finishes_after_a_restart(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            task_id = _hourly_task(h)
            h.backend.delay = 0.05
            first = START - 20 * HOUR
            backfill.backfill_task(h.ctx, task_id, _spec(
                **{"from": _rfc(first), "to": _rfc(START)}))
            await h.eventually(lambda: len(h.backend.received) >= 3, limit=30)
            await h.stop_engine()
            assert len(h.backend.received) < 20
            await h.start_engine()
            await h.eventually(lambda: len(h.backend.received) >= 20, limit=60)
            await h.settle()
            runs = _backfills(h, task_id)
            assert [e.scheduled_at for e in runs] == [first + k * HOUR for k in range(20)]
            assert {e.status for e in runs} == {"SUCCEEDED"}
            assert _windows(h) == _expected_windows(first, 20)  # still in time order

    asyncio.run(main())


def test_backfill_rules_name_the_field(tmp_path: Path, database_url: str | None) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            task_id = _hourly_task(h, effective_time=START - 2000 * HOUR)
            cases = [
                ({"from": _rfc(START - HOUR), "to": _rfc(START - 2 * HOUR)}, "after 'from'"),
                ({"from": _rfc(START - HOUR), "to": _rfc(START + HOUR)}, "in the future"),
                ({"from": _rfc(START - 1500 * HOUR), "to": _rfc(START)}, "more than 1000"),
            ]
            for span, words in cases:
                with pytest.raises(InvalidInput) as caught:
                    backfill.backfill_task(h.ctx, task_id, _spec(**span))
                assert caught.value.field == "to" and words in caught.value.message
            with pytest.raises(InvalidInput) as caught:
                _spec(**{"from": "2027-01-01T00:00:00", "to": _rfc(START)})
            assert caught.value.field == "from"
            with pytest.raises(InvalidInput) as caught:
                _spec(**{"from": _rfc(START - HOUR), "to": _rfc(START), "mode": "ALL"})
            assert caught.value.field == "mode"
            assert _backfills(h, task_id) == []

    asyncio.run(main())


def test_a_replay_is_a_new_execution_of_the_same_occurrence(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            h.backend.responses = [(400, {}, "bad day")]
            owned = h.api(method="GET")
            task_id = h.task(owned, cron_expression="0 0 * * * ?",
                             effective_time=START - 2 * HOUR,
                             request={"query": [{"name": "w", "value": "{{window_start}}"},
                                                {"name": "id", "value": "{{execution_id}}"}]})
            await h.advance(1)
            original = h.history(task_id)[0]
            assert original.status == "FAILED"
            h.clock.advance(timedelta(minutes=30))
            replay = backfill.replay_execution(h.ctx, original.id)
            assert (replay.trigger, replay.replay_of, replay.scheduled_at) == (
                "REPLAY", original.id, original.scheduled_at)
            with pytest.raises(Conflict):  # still to run: not twice at once
                backfill.replay_execution(h.ctx, replay.id)
            await h.eventually(lambda: len(h.backend.received) == 2)
            await h.settle()
            done = executions.get_execution(h.ctx, replay.id)
            assert done.status == "SUCCEEDED"
            again = h.backend.received[1]
            assert dict(again["query"]) == {"w": "2027-03-01T07:00:00Z", "id": replay.id}
            assert again["headers"]["X-Apicron-Scheduled-Time"] == "2027-03-01T08:00:00Z"
            # The original's history is left as it happened.
            kept = executions.get_execution(h.ctx, original.id)
            assert (kept.status, len(kept.attempts)) == ("FAILED", 1)

    asyncio.run(main())


def test_an_old_occurrence_backfilled_is_not_pruned_as_soon_as_it_ran(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            day = timedelta(days=1)
            task_id = _hourly_task(h, cron_expression="0 0 * * * ?",
                                   effective_time=START - 50 * day)
            result = backfill.backfill_task(h.ctx, task_id, _spec(
                **{"from": _rfc(START - 40 * day), "to": _rfc(START - 40 * day + 2 * HOUR)}))
            assert result.queued == 2
            await h.eventually(lambda: len(h.backend.received) == 2)
            await h.settle()
            with h.ctx.store.write() as q:  # what the history pruning does (30 days)
                q.prune_executions(START - 30 * day, 1000)
            assert [e.status for e in _backfills(h, task_id)] == ["SUCCEEDED"] * 2

    asyncio.run(main())
