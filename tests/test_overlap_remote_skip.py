"""Overlap policy SKIP when the previous execution runs on another node.

That node writes a finished call's result a little after the call ends (in batches), so
for a moment its execution still reads RUNNING. An occurrence due then looks again for up
to ``REMOTE_SETTLE`` before it is SKIPPED (the bench's scale-out run, 2026-12-01: 37 of
150 a second were SKIPPED though each previous call had ended 190-240 ms before). Two
engines on one PostgreSQL database, each with its own driven clock; nothing is timed.
"""

from __future__ import annotations

from apicron.engine.firing import SKIPPED_MESSAGE
from apicron.engine.overlap import REMOTE_WAITED_NOTE
from tests.engine_harness import Harness
from tests.test_overlap_multinode import (
    at,
    b_holds_the_first_call,
    move_a_to,
    received,
    rows,
    two_nodes,
)


async def _finished_meanwhile(a: Harness, b: Harness) -> None:
    task_id = await b_holds_the_first_call(a, b, overlap_policy="SKIP")
    await move_a_to(a, 15)  # 08:00:15 due on A while B's 08:00:10 reads RUNNING
    history = rows(a, task_id)
    told = sorted((e.scheduled_at, e.status, e.error_msg) for e in history.values())
    assert history[at(15)].status == "PENDING", told  # looking again, not SKIPPED
    a.backend.gate.set()
    await a.eventually(lambda: rows(a, task_id)[at(10)].status == "SUCCEEDED", limit=30)
    await move_a_to(a, 16)  # A's next look (within a second of 08:00:15) finds it done
    await a.eventually(lambda: rows(a, task_id)[at(15)].status == "SUCCEEDED", limit=30)
    assert rows(a, task_id)[at(15)].note == REMOTE_WAITED_NOTE
    assert received(a) == ["2027-03-01T08:00:10Z", "2027-03-01T08:00:15Z"]


async def _still_running(a: Harness, b: Harness) -> None:
    task_id = await b_holds_the_first_call(a, b, overlap_policy="SKIP")
    await move_a_to(a, 17)  # a second and more of looks: B's call still runs
    history = rows(a, task_id)
    assert history[at(15)].status == "SKIPPED"
    assert history[at(15)].error_msg == SKIPPED_MESSAGE
    assert received(a) == ["2027-03-01T08:00:10Z"]
    a.backend.gate.set()
    await a.eventually(lambda: rows(a, task_id)[at(10)].status == "SUCCEEDED", limit=30)
    assert received(a) == ["2027-03-01T08:00:10Z"]


test_skip_runs_an_occurrence_whose_previous_run_on_another_node_ended_meanwhile = (
    two_nodes(_finished_meanwhile))
test_skip_skips_it_when_the_other_nodes_run_is_still_going_a_second_later = two_nodes(
    _still_running)
