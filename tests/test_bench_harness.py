"""The bench harness's wait for a burst: a peer whose first call comes late is waited for.

Found in issue 20's full run: APScheduler 3, the Node peer and the bare loop were reported
as delivering none of a 10,000-task burst. Each needed more than the 3 s "settle" time to
send its first call (APScheduler hands 10,000 due jobs to its executor before any goes
out), and the wait counted those 3 s from its start, not from the first receipt.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from bench.common import Scale, children
from bench.harness import Bench


def test_the_wait_counts_its_settle_time_from_the_first_receipt(tmp_path: Path) -> None:
    with children() as group:
        bench = Bench(Scale(quick=True), group, tmp_path)
        bench.start_backend()

        def late_peer() -> None:
            time.sleep(1.0)  # longer than the settle time below
            for i in range(3):
                httpx.get(f"{bench.backend_url}/late/{i}", timeout=10)

        sender = threading.Thread(target=late_peer)
        sender.start()
        try:
            bench.wait_for(3, settle=0.3, limit=30)
            assert bench.count() == 3
        finally:
            sender.join()


def test_the_wait_still_ends_when_receipts_stop(tmp_path: Path) -> None:
    with children() as group:
        bench = Bench(Scale(quick=True), group, tmp_path)
        bench.start_backend()
        httpx.get(f"{bench.backend_url}/only/1", timeout=10)
        started = time.monotonic()
        bench.wait_for(10, settle=0.3, limit=30)
        # Ended by the settle time after the one receipt, not by the 30 s limit.
        assert time.monotonic() - started < 20
        assert bench.count() == 1
