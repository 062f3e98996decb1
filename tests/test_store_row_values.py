"""``row_values`` gives what ``dataclasses.asdict`` gave the store's inserts, uncopied."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from apicron.store.records import AttemptRecord, NewExecution, row_values


def test_row_values_equal_asdict_and_share_the_values() -> None:
    at = datetime(2027, 3, 1, 8, tzinfo=UTC)
    records: list[NewExecution | AttemptRecord] = [
        NewExecution(id="e1", task_id="t1", scheduled_at=at, status="PENDING", created_at=at,
                     claimed_by="node", lease_until=at, note="late", planned_at=at),
        AttemptRecord("e1", 1, at, at, 12, 200, None, None, "ok", node_id="node"),
    ]
    for record in records:
        values = row_values(record)
        assert values == dataclasses.asdict(record)
        assert list(values) == [f.name for f in dataclasses.fields(record)]
    assert row_values(records[0])["scheduled_at"] is at  # not copied
