"""Faults: does a bad backend make the engine late for everybody else?

The normal load is 6,000 spread tasks (100 due every second). With faults, 60 more tasks
per kind (one of each kind due every second) call a backend that hangs (until the API's
5 s timeout), drops the connection, answers 10 MB, or trickles one byte every 100 ms. The
figure is the lateness of the *unaffected* tasks, for apicron without faults (the
baseline), apicron with them, and APScheduler 3 with them (its session has the same 5 s
timeout and reads each body, as a user's job would).
"""

from __future__ import annotations

from typing import Any

from bench.common import goal, goal_lines, print_table, ratio
from bench.harness import Bench
from bench.scenarios import spread
from bench.scenarios.lateness import GOALS

NAME = "faults"


def run(bench: Bench) -> dict[str, Any]:
    scale = bench.scale
    tasks, faults = scale.of(6000), scale.of(60)
    timing: spread.Timing = {"warmup": scale.seconds(10, 0.2), "window": scale.seconds(60, 1),
              "drain": scale.seconds(3, 0.3)}
    print(f"faults: {tasks:,} tasks + {faults} per fault kind", flush=True)
    rows: dict[str, dict[str, Any]] = {}
    rows["apicron, no faults"] = spread.apicron(bench, "faults-baseline", tasks, **timing)
    rows["apicron, faults"] = spread.apicron(bench, "faults-apicron", tasks, faults=faults,
                                             **timing)
    rows["APScheduler 3, faults"] = spread.apscheduler(bench, tasks, faults=faults, **timing)
    ours = rows["apicron, faults"]
    base = rows["apicron, no faults"]
    goals = [goal(f"unaffected tasks' lateness {k.split('_')[0]}", ours.get(k), v, "ms")
             for k, v in GOALS.items()]
    outcomes = ours.get("fault_outcomes", {})
    table = print_table(
        f"faults: lateness of {tasks:,} unaffected tasks, {timing['window']:.0f} s, "
        f"{faults} tasks per fault kind",
        ["scheduler", "delivered", "missing", "dup", "p50 ms", "p99 ms", "max ms", "CPU s",
         "RSS MB", "p99 vs baseline", "p99 ratio"],
        [[name, r["delivered"], r["missing"], r["duplicates"], r["p50_ms"], r["p99_ms"],
          r["max_ms"], r["cpu_s"], r["rss_mb"], ratio(r["p99_ms"], base["p99_ms"]),
          ratio(r["p99_ms"], ours["p99_ms"])] for name, r in rows.items()],
        ["p99 ratio = this row / apicron with faults (above 1: apicron is earlier)",
         "apicron's fault executions: " + "; ".join(
             f"{kind}: " + ", ".join(f"{n} {what}" for what, n in sorted(found.items()))
             for kind, found in outcomes.items()),
         *goal_lines(goals)],
    )
    return {"tasks": tasks, "faults_per_kind": faults, **timing, "rows": rows,
            "goals": goals, "table": table}
