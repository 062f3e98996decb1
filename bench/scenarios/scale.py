"""Scale: 1,000,000 stored tasks, 100,000 of them started (hourly cron, ``S M * * * ?``,
about 28 due every second); APScheduler 3 with 100,000 in-memory jobs as the peer.

The store grows in steps (1 %, 10 %, 100 % of N). At each step: the time to insert the
rows (copies of one task validated by apicron's services) and to start a tenth of them,
and the latency of the engine's claim statement (``claim_due_tasks``, run and rolled back
in a write transaction, from this process, with the engine's arguments: due within 1 s,
batch 500; and a full batch of 500 rows). Then at N: ``apicron serve`` start-up (spawn to
a healthy management API), RSS after it has run a while, and the lateness of the calls it
made meanwhile. A flat claim cost means p99 at 100 % about that at 1 %.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.apicron_instance import Instance, Server, TaskSpec
from bench.common import (
    goal,
    goal_lines,
    print_table,
    python_module,
    ratio,
    read_line,
    rss_mb,
    spread_ms,
)
from bench.harness import Bench, occurrences

NAME = "scale"
GOALS = {"startup_s": 5.0, "rss_mb": 300.0}


class _Rollback(Exception):
    pass


def _spec(i: int) -> TaskSpec:
    if i % 10 == 0:  # a tenth is started: hourly, spread over the hour
        n = i // 10
        return TaskSpec(f"s{i:07d}", "hook", f"{n % 60} {(n // 60) % 60} * * * ?")
    return TaskSpec(f"i{i:07d}", "hook", f"{i % 60} {(i // 60) % 60} * * * ?")


def _claim_latency(instance: Instance, repeats: int, horizon: timedelta) -> dict[str, float]:
    durations: list[float] = []
    claimed = 0
    for _ in range(repeats):
        now = datetime.now(UTC)
        try:
            with instance.ctx.store.write() as q:
                started = time.perf_counter()
                claimed = len(q.claim_due_tasks(now, now + horizon, now + timedelta(seconds=15),
                                                500))
                durations.append(time.perf_counter() - started)
                raise _Rollback
        except _Rollback:
            pass
    return {**spread_ms(durations), "rows": claimed}


def _flat_claim_goal(growth: list[dict[str, Any]]) -> dict[str, Any]:
    # Compare full batches: the same 500 rows at every N, so only N changes. The claim of
    # what is due within 1 s grows with the rows due (0 at 10k, ~280 at 1M), not with N.
    first, last = growth[0]["claim_batch"], growth[-1]["claim_batch"]
    if first["rows"] < 500 or last["rows"] < 500:
        return goal("scale 500-row claim p99 at N / at N÷100 (not measurable: fewer than "
                    "500 started at N÷100)", None, 2.0, "×")
    return goal("scale 500-row claim p99 at N / at N÷100", last["p99_ms"] / first["p99_ms"],
                2.0, "×")


def _apscheduler(bench: Bench, jobs: int) -> dict[str, Any]:
    process = bench.group.start(
        python_module("bench.peers.apscheduler3", bench.backend_url, "--mode", "scale",
                      "--tasks", jobs), stdout_pipe=True)
    try:
        started = time.perf_counter()
        ready = read_line(process, 600)
        ready["process_s"] = time.perf_counter() - started
        time.sleep(2)
        ready["rss_mb"] = rss_mb(process.pid)
        return ready
    finally:
        bench.group.stop(process)


def run(bench: Bench) -> dict[str, Any]:
    scale = bench.scale
    total = scale.of(1_000_000)
    steps = [total // 100, total // 10, total]
    repeats = 20 if scale.quick else 100
    settle = scale.seconds(30, 1)
    folder = bench.workdir / "scale-apicron"
    instance = Instance(folder, bench.backend_url)
    instance.publish({"hook": "/apicron"})
    print(f"scale: {total:,} stored tasks, {total // 10:,} started", flush=True)
    growth: list[dict[str, Any]] = []
    done = 0
    for n in steps:
        insert_s = instance.insert_tasks([_spec(i) for i in range(done, n)])
        start_s = instance.start_tasks(datetime.now(UTC), prefix="s")
        step: dict[str, Any] = {
                "stored": n, "started": n // 10, "inserted": n - done, "insert_s": insert_s,
                "insert_rows_per_s": (n - done) / insert_s, "start_s": start_s,
                "claim_engine": _claim_latency(instance, repeats, timedelta(seconds=1)),
                "claim_batch": _claim_latency(instance, repeats, timedelta(days=1))}
        growth.append(step)
        print(f"  {n:>9,} stored: inserted {n - done:,} in {insert_s:.1f} s, claim p99 "
              f"{step['claim_engine']['p99_ms']:.2f} ms / batch {step['claim_batch']['p99_ms']:.2f}"
              f" ms", flush=True)
        done = n
    db_mb = sum(p.stat().st_size for p in folder.glob("apicron.db*")) / 1e6
    # Restart the started tasks from now: the steps above took a while, and the server's
    # start is measured, not a catch-up of the occurrences missed meanwhile.
    instance.start_tasks(datetime.now(UTC) + timedelta(seconds=2), prefix="s",
                         statuses=("STARTED",))
    instance.close()
    server = Server(bench.group, instance, folder / "serve.log")
    bench.records()
    try:
        startup = server.start()
        w0 = time.time()
        time.sleep(settle)
        serving: dict[str, Any] = {"startup_s": startup, "rss_mb": server.rss_mb(),
                   "peak_rss_mb": rss_mb(server.pid, "VmHWM")}
    finally:
        server.stop()
    got = occurrences(bench, bench.records(), kinds={"apicron"}, window=(math.ceil(w0), 2e9))
    serving["calls"] = got.figures()
    peer_jobs = total // 10
    aps = _apscheduler(bench, peer_jobs)
    goals = [goal("scale start-up", serving["startup_s"], GOALS["startup_s"], "s"),
             goal("scale RSS", serving["rss_mb"], GOALS["rss_mb"], "MB"),
             _flat_claim_goal(growth)]
    table = print_table(
        f"scale: {total:,} stored tasks ({total // 10:,} started) vs APScheduler 3 with "
        f"{peer_jobs:,} jobs",
        ["figure", "apicron", "APScheduler 3", "ratio"],
        [["tasks held", f"{total:,} stored", f"{peer_jobs:,} in memory", ""],
         ["insert / add_job, s", sum(s["insert_s"] for s in growth), aps.get("add_s"),
          ratio(aps.get("add_s"), sum(s["insert_s"] for s in growth))],
         ["start tasks (next fire times), s", sum(s["start_s"] for s in growth), "", ""],
         ["server start-up, s", serving["startup_s"], aps.get("start_s"),
          ratio(aps.get("start_s"), serving["startup_s"])],
         ["RSS, MB", serving["rss_mb"], aps.get("rss_mb"),
          ratio(aps.get("rss_mb"), serving["rss_mb"])],
         ["peak RSS, MB", serving["peak_rss_mb"], "", ""],
         ["database, MB", db_mb, "", ""],
         [f"calls in {settle:.0f} s after start: p50 / p99 ms",
          f"{serving['calls']['delivered']:,}: {serving['calls']['p50_ms']:.1f} / "
          f"{serving['calls']['p99_ms']:.1f}", "", ""],
         *[[f"claim p50 / p99 ms at {s['stored']:,} (due ≤ 1 s: {s['claim_engine']['rows']} "
            f"rows | batch {s['claim_batch']['rows']})",
            f"{s['claim_engine']['p50_ms']:.2f} / {s['claim_engine']['p99_ms']:.2f} | "
            f"{s['claim_batch']['p50_ms']:.2f} / {s['claim_batch']['p99_ms']:.2f}", "", ""]
           for s in growth]],
        ["ratio = APScheduler / apicron (above 1: apicron is faster or smaller); apicron's "
         "insert is the harness's bulk copy of a validated task (the API creates a few "
         "hundred a second)", *goal_lines(goals)],
    )
    return {"stored": total, "started": total // 10, "growth": growth, "serving": serving,
            "database_mb": db_mb, "apscheduler": aps, "goals": goals, "table": table}
