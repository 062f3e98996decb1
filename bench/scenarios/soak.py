"""Soak: 30 minutes at 1,000 fires a minute against a backend that fails at random.

1,000 tasks ``S * * * * ?`` (S = i mod 60), ``max_retries`` 3, call ``/flaky/`` on the
recording backend: 8 % answer 503, 2 % drop the connection, 2 % answer after 2 s. Once
the window ends and the last retries are done, apicron is stopped and its own store is
read. Checked: every occurrence due in the window has exactly one execution row, finished,
and reached the backend (zero lost), no attempt reached the backend twice and no
occurrence succeeded twice (zero duplicates), and RSS is flat (the slope over the
second half of the run, sampled every 30 s). apicron alone: these are absolute
properties, no peer is asked to match them.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from apicron.store.tables import executions
from bench.apicron_instance import Instance, Server, TaskSpec
from bench.common import goal, goal_lines, print_table, sleep_until
from bench.harness import Bench, expected_spread


def _slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 2:
        return math.nan
    xs = [t / 60 for t, _ in samples]
    ys = [r for _, r in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def run(bench: Bench, minutes: float, tasks: int) -> dict[str, Any]:
    folder = bench.workdir / "soak-apicron"
    instance = Instance(folder, bench.backend_url)
    instance.publish({"flaky": "/flaky/call"})
    instance.insert_tasks([TaskSpec(f"t{i:06d}", "flaky", f"{i % 60} * * * * ?",
                                    max_retries=3) for i in range(tasks)])
    server = Server(bench.group, instance, folder / "serve.log")
    samples: list[tuple[float, float]] = []
    print(f"soak: {tasks:,} fires a minute for {minutes:g} min, random backend failures",
          flush=True)
    try:
        server.start()
        instance.start_tasks(datetime.now(UTC))
        server.wake()
        w0 = math.ceil(time.time() + 10)
        w1 = w0 + math.ceil(minutes * 60)
        sleep_until(w0 - 0.5)
        bench.records()  # what arrived before the window is not counted
        while time.time() < w1:
            samples.append((time.time() - w0, server.rss_mb()))
            time.sleep(min(30.0, max(0.0, w1 - time.time())))
        samples.append((time.time() - w0, server.rss_mb()))
        # The last occurrences' retries: backoff ≤ 1 + 2 + 4 s, each attempt ≤ 5 s.
        time.sleep(25)
    finally:
        server.stop()
    records = bench.records()
    window = (w0, w1)
    expected = expected_spread(tasks, window)
    with instance.ctx.store.read() as q:
        rows = q.connection.execute(
            select(executions.c.status, func.count())
            .where(executions.c.scheduled_at >= datetime.fromtimestamp(w0, UTC),
                   executions.c.scheduled_at < datetime.fromtimestamp(w1, UTC),
                   executions.c.trigger == "SCHEDULE")
            .group_by(executions.c.status)).all()
    instance.close()
    statuses = {status: count for status, count in rows}
    recorded = sum(statuses.values())
    unfinished = statuses.get("PENDING", 0) + statuses.get("RUNNING", 0)
    attempts: Counter[tuple[str, str, str]] = Counter()
    successes: Counter[tuple[str, str]] = Counter()
    reached: set[tuple[str, str]] = set()
    for _received, stamp, key, kind, attempt, status in records:
        if kind != "flaky" or not stamp:
            continue
        if not w0 <= bench.scheduled_epoch(stamp) < w1:
            continue
        attempts[(key, stamp, attempt)] += 1
        reached.add((key, stamp))
        if status == 200:
            successes[(key, stamp)] += 1
    duplicate_attempts = sum(n - 1 for n in attempts.values() if n > 1)
    duplicate_successes = sum(n - 1 for n in successes.values() if n > 1)
    half = [s for s in samples if s[0] >= (w1 - w0) / 2]
    slope = _slope_mb_per_min(half)
    # Every occurrence's first attempt reaches this backend (it never refuses connections),
    # so one that never arrived was lost even if the store says otherwise.
    lost = max(expected - recorded, 0) + unfinished + max(expected - len(reached), 0)
    goals = [goal("soak lost occurrences", lost, 0, ""),
             goal("soak duplicates (attempts received twice + double successes)",
                  duplicate_attempts + duplicate_successes, 0, ""),
             goal("soak RSS slope, 2nd half", abs(slope), 0.5, "MB/min")]
    table = print_table(
        f"soak: {tasks:,} fires/min for {minutes:g} min, random failures, max_retries 3",
        ["figure", "value"],
        [["occurrences due in the window", expected],
         ["execution rows for them", recorded],
         ["  by status", ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))],
         ["unfinished (PENDING/RUNNING) after the drain", unfinished],
         ["occurrences that reached the backend", len(reached)],
         ["calls received", sum(attempts.values())],
         ["attempts received twice", duplicate_attempts],
         ["occurrences that succeeded twice", duplicate_successes],
         ["RSS first / last, MB", f"{samples[0][1]:.1f} / {samples[-1][1]:.1f}"],
         ["RSS slope over the 2nd half, MB/min", slope]],
        ["FAILED = all 4 attempts failed (the backend's dice), recorded, not lost; an "
         "attempt received twice (same X-Apicron-Attempt) would be a call resent by the "
         "engine or its HTTP client",
         *goal_lines(goals)],
    )
    return {"tasks": tasks, "minutes": minutes, "expected": expected, "statuses": statuses,
            "reached_backend": len(reached), "duplicate_attempts": duplicate_attempts,
            "duplicate_successes": duplicate_successes, "rss_samples": samples,
            "rss_slope_mb_per_min": slope, "goals": goals, "table": table}
