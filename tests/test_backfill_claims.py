"""Issue 18: a SEQUENTIAL backfill's executions are never taken by two scheduler nodes at
once (only the engine holding a sequence keeps it one at a time). On a real store, SQLite
and PostgreSQL, with the store's own claim: no engine, no clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apicron.server import open_store
from apicron.services.context import Context
from apicron.settings import load_settings
from apicron.store.records import NewExecution
from tests.servers import SECRET_KEY

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def ctx(tmp_path: Path, database_url: str | None) -> Iterator[Context]:
    env = {"APICRON_DATA_DIR": str(tmp_path)}
    if database_url:
        env |= {"APICRON_DATABASE_URL": database_url, "APICRON_SECRET_KEY": SECRET_KEY}
    context = open_store(load_settings(env))
    yield context
    context.store.close()


def _queue(ctx: Context, sequence: str | None, count: int, prefix: str, hour: int = 0) -> None:
    with ctx.store.write() as q:
        q.insert_executions([
            NewExecution(id=f"{prefix}{i}", task_id="t1", trigger="BACKFILL",
                         scheduled_at=START + timedelta(hours=hour + i), status="PENDING",
                         created_at=START, sequence_id=sequence)
            for i in range(count)
        ])


def _claim(ctx: Context, node: str, now: datetime, limit: int) -> list[str]:
    with ctx.store.write() as q:
        rows = q.claim_queued(node, now, now + timedelta(seconds=15), limit, all_foreign=False)
    return sorted(r.id for r in rows)


def test_a_sequence_another_live_node_holds_is_not_taken(ctx: Context) -> None:
    _queue(ctx, "seq1", 5, "s")
    _queue(ctx, None, 2, "p", hour=10)  # a PARALLEL backfill: free for any node
    now = datetime.now(UTC)
    assert _claim(ctx, "node-a", now, 2) == ["s0", "s1"]
    # Before the fix node B took s2..s4 and ran them beside node A's.
    assert _claim(ctx, "node-b", now, 10) == ["p0", "p1"]
    assert _claim(ctx, "node-a", now, 10) == ["s2", "s3", "s4"]


def test_a_sequence_is_free_again_once_its_holder_is_gone(ctx: Context) -> None:
    _queue(ctx, "seq2", 3, "t")
    now = datetime.now(UTC)
    assert _claim(ctx, "node-a", now, 1) == ["t0"]
    assert _claim(ctx, "node-b", now, 10) == []
    # Node A died: once its lease has run out, its part and the rest go to node B.
    later = now + timedelta(seconds=16)
    assert _claim(ctx, "node-b", later, 10) == ["t0", "t1", "t2"]
