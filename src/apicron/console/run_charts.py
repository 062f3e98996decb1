"""A task's recent runs as figures and a server-rendered SVG chart (issue 15): no chart
library and no script, so the page shows them as sent."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from apicron.domain.models import ExecutionSummary

# Not colour alone: each status has a shape of its own in the strip.
SYMBOLS = {
    "SUCCEEDED": "✓", "FAILED": "✕", "MISSED": "⊘", "SKIPPED": "↷", "RUNNING": "▶",
    "PENDING": "…",
}
CHART_WIDTH = 600
CHART_HEIGHT = 120
_BASELINE = CHART_HEIGHT - 4


def duration_ms(run: ExecutionSummary) -> float | None:
    """Milliseconds from start to finish; None for a run that did not both start and end."""
    if run.started_at is None or run.finished_at is None:
        return None
    return max(0.0, (run.finished_at - run.started_at).total_seconds() * 1000)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Mark:
    """One run in the chart: a bar of its duration, or a tick on the baseline when it has
    none (missed, skipped, not finished)."""

    x: float
    y: float
    width: float
    height: float
    status: str
    label: str


@dataclass(frozen=True)
class RecentRuns:
    """The last runs of a task (given newest first, kept oldest first for reading left to
    right) with their success rate and p50/p95 durations in ms."""

    runs: list[ExecutionSummary]
    succeeded: int
    failed: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float
    marks: list[Mark]

    @property
    def rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return None if finished == 0 else 100.0 * self.succeeded / finished


def recent_runs(newest_first: Sequence[ExecutionSummary], slots: int = 50) -> RecentRuns:
    runs = list(reversed(newest_first[:slots]))
    durations = [d for d in (duration_ms(r) for r in runs) if d is not None]
    top = max(durations, default=0.0) or 1.0
    slot = CHART_WIDTH / slots
    marks = []
    for index, run in enumerate(runs):
        took = duration_ms(run)
        x = index * slot + slot * 0.15
        when = run.scheduled_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        if took is None:
            marks.append(Mark(x, _BASELINE - 3, slot * 0.7, 3, run.status,
                              f"{when}: {run.status.lower()}, no duration"))
        else:
            height = max(2.0, (_BASELINE - 4) * took / top)
            marks.append(Mark(x, _BASELINE - height, slot * 0.7, height, run.status,
                              f"{when}: {run.status.lower()}, {took:.0f} ms"))
    return RecentRuns(
        runs=runs,
        succeeded=sum(r.status == "SUCCEEDED" for r in runs),
        failed=sum(r.status == "FAILED" for r in runs),
        p50_ms=percentile(durations, 0.5),
        p95_ms=percentile(durations, 0.95),
        max_ms=max(durations, default=0.0),
        marks=marks,
    )
