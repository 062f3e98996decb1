"""The new user's trial on a real server: `apicron serve` stopped (SIGTERM) for a few
occurrences of a task every 5 s, well within the 60 s misfire grace, then started again.

Before: the earliest due occurrence ran late with no note and the others were recorded
SKIPPED "previous execution not finished". Now one call is made for them all (the latest
due), and every earlier one is recorded MISSED saying apicron was not running. Nothing is
timed: however slow the restart, each occurrence has exactly one row and the backend gets
each scheduled time at most once.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from tests.conftest import World
from tests.servers import ApicronProcess
from tests.test_misfire_process import Recorder, backend, history, parse

__all__ = ["backend"]  # the fixture, shared with test_misfire_process


def test_a_short_restart_makes_one_call_and_records_the_rest_missed(
    tmp_path: Path, backend: Recorder
) -> None:
    node = ApicronProcess(tmp_path / "data").start()
    admin = node.client()
    try:
        world = World(admin)
        app, api = world.setup(backend_url=backend.url("/tick"))
        task = world.task(app, api, cron_expression="0/5 * * * * ?")
        task_id = task["id"]
        world.ok(admin.post(f"/v1/tasks/{task_id}/start"))
        deadline = time.monotonic() + 60
        while not backend.scheduled and time.monotonic() < deadline:
            time.sleep(0.2)
        assert backend.scheduled, "the task never fired"
        node.stop()
        stopped = datetime.now(UTC)
        time.sleep(12)  # at least two occurrences due while apicron is down
        node.start()
        restarted = datetime.now(UTC)
        # Wait (bounded) until the occurrences due during the stop are decided.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = history(admin, task_id)
            if any(parse(e["scheduled_at"]) > restarted and e["status"] == "SUCCEEDED"
                   for e in rows):
                break
            time.sleep(0.3)
        admin.post(f"/v1/tasks/{task_id}/stop")
        rows = history(admin, task_id)
        told = [(e["scheduled_at"], e["status"], e["error_msg"], e["note"]) for e in rows]
        # One row per occurrence, none twice. (A SKIPPED one later is possible: on a loaded
        # machine a call can outlast 5 s, and overlap policy SKIP then applies.)
        times = [parse(e["scheduled_at"]) for e in rows]
        assert times == sorted(set(times)), told
        assert all(b - a == timedelta(seconds=5) for a, b in pairwise(times)), told
        # Of those due while apicron was down only the latest ran; the others say why not.
        after = [e for e in rows if parse(e["scheduled_at"]) > stopped]
        ran = next(i for i, e in enumerate(after) if e["status"] != "MISSED")
        assert ran >= 1, told
        assert after[ran]["status"] == "SUCCEEDED", told
        assert parse(after[ran]["scheduled_at"]) <= restarted, told
        for e in after[:ran]:
            assert "apicron was not running at its time" in e["error_msg"], told
            # Within the grace (the usual case) it names the one that ran instead; past it
            # (a very slow restart) the misfire policy RUN_ONCE says the same in its words.
            assert ("ran instead" in e["error_msg"]
                    or "RUN_ONCE runs only the latest" in e["error_msg"]), told
        # Each scheduled time reached the backend at most once.
        assert max(Counter(backend.scheduled).values()) == 1, backend.scheduled
    finally:
        admin.close()
        node.stop()
