"""The engine harness says when it stopped waiting (a test that failed under load once
gave no reason: ``settle`` had run out of time without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_harness import Harness, scenario


async def _held_call_then_fail(h: Harness) -> None:
    h.backend.hold_first = 1  # the call stays in flight until the gate opens (never)
    h.task(h.api(timeout_ms=60_000))
    await h.eventually(lambda: len(h.backend.received) == 1, limit=30)
    await h.settle(limit=0.2)
    assert h.gave_up and "1 calls in flight" in h.gave_up[-1], h.gave_up
    raise AssertionError("the condition the test waited for")


def test_a_failing_scenario_says_what_settle_gave_up_on(tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as failed:
        scenario(_held_call_then_fail)(tmp_path, None)
    assert str(failed.value) == "the condition the test waited for"
    notes = getattr(failed.value, "__notes__", [])
    assert any("settle gave up after 0.2 s" in n and "1 calls in flight" in n
               for n in notes), notes
