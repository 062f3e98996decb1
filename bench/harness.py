"""The run every scenario shares: the recording backend, a work directory, child processes,
and reading the backend's receipts back as occurrences."""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import Children, Scale, free_port, python_module, read_line, spread_ms

Record = tuple[float, str, str, str, str, int]
"""(receipt epoch, scheduled header, occurrence key, first path segment, attempt, status)."""


@dataclass
class Bench:
    scale: Scale
    group: Children
    workdir: Path
    backend_url: str = ""
    backend_pid: int = 0
    capacity_steps: tuple[int, ...] = ()
    """Calls a second the capacity scenario steps through (empty: its defaults)."""
    capacity_seconds: float = 0.0
    """Seconds measured per capacity step (0: its default)."""
    _parsed: dict[str, float] = field(default_factory=dict)

    def start_backend(self) -> None:
        port = free_port()
        process = self.group.start(python_module("bench.backend", port), stdout_pipe=True)
        read_line(process, 30)
        self.backend_url = f"http://127.0.0.1:{port}"
        self.backend_pid = process.pid

    def records(self) -> list[Record]:
        """Every receipt since the last call (the backend forgets them)."""
        rows: list[list[Any]] = httpx.get(self.backend_url + "/__bench/stats", timeout=120).json()
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def count(self) -> int:
        return int(httpx.get(self.backend_url + "/__bench/count", timeout=30).text)

    def wait_for(self, total: int, *, settle: float, limit: float) -> None:
        """Until the backend holds ``total`` receipts, or none came for ``settle`` seconds
        after the first one, or ``limit`` seconds passed.

        The settle clock starts at the first receipt, not at the call: a peer that needs
        more than ``settle`` seconds to send its first call (APScheduler 3 handing 10,000
        due jobs to its executor, on a slow machine) is measured, not taken for one that
        dropped everything."""
        deadline = time.monotonic() + limit
        last, last_change = 0, time.monotonic()
        while time.monotonic() < deadline:
            count = self.count()
            if count >= total:
                return
            if count != last:
                last, last_change = count, time.monotonic()
            elif count and time.monotonic() - last_change > settle:
                return
            time.sleep(0.05)

    def scheduled_epoch(self, stamp: str) -> float:
        value = self._parsed.get(stamp)
        if value is None:
            value = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            self._parsed[stamp] = value
        return value


@dataclass(frozen=True)
class Occurrences:
    """Receipts of first attempts, grouped by occurrence (key, scheduled time)."""

    lateness: list[float]
    """Seconds from scheduled time to the first receipt of each occurrence."""
    delivered: int
    duplicates: int
    """First-attempt receipts beyond one per occurrence."""
    first_receipt: float
    last_receipt: float

    def figures(self, expected: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"delivered": self.delivered, "duplicates": self.duplicates,
                               **spread_ms(self.lateness)}
        if expected is not None:
            out["expected"] = expected
            out["missing"] = max(expected - self.delivered, 0)
        return out


def occurrences(bench: Bench, records: Iterable[Record], *, kinds: set[str],
                window: tuple[float, float] | None = None,
                keep: Callable[[Record], bool] | None = None) -> Occurrences:
    seen: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], float] = {}
    late: list[float] = []
    receipts: list[float] = []
    for record in records:
        received, stamp, key, kind, attempt, _ = record
        if kind not in kinds or not stamp or attempt != "1":
            continue
        if keep is not None and not keep(record):
            continue
        scheduled = bench.scheduled_epoch(stamp)
        if window is not None and not window[0] <= scheduled < window[1]:
            continue
        occurrence = (key, stamp)
        seen[occurrence] += 1
        receipts.append(received)
        if occurrence not in first:
            first[occurrence] = received
            late.append(received - scheduled)
    return Occurrences(
        lateness=late, delivered=len(first),
        duplicates=sum(n - 1 for n in seen.values() if n > 1),
        first_receipt=min(receipts, default=math.nan),
        last_receipt=max(receipts, default=math.nan),
    )


def expected_spread(tasks: int, window: tuple[float, float]) -> int:
    """Occurrences of tasks ``S * * * * ?`` (S = i mod 60) due in ``window`` (whole s)."""
    per_second: defaultdict[int, int] = defaultdict(int)
    for i in range(tasks):
        per_second[i % 60] += 1
    return sum(per_second[s % 60] for s in range(int(window[0]), int(window[1])))
