"""Lateness: 10,000 tasks spread evenly over each minute (``S * * * * ?``, S = i mod 60,
about 167 due every second), measured for 3 minutes after a 10 s warm-up, for apicron,
APScheduler 3, Node.js (croner + fetch) and cron-style curl, one after the other against
the same backend.

Lateness is backend receipt − scheduled time, per occurrence (first attempt).
"""

from __future__ import annotations

from typing import Any

from bench.common import goal, goal_lines, print_table, ratio, tool
from bench.harness import Bench
from bench.peers import node as node_peer
from bench.scenarios import spread

NAME = "lateness"
GOALS = {"p50_ms": 15.0, "p99_ms": 50.0}


def _figure(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    return None if value is None or "skipped" in row else float(value)


def peer_goals(ours: dict[str, Any], rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's relative goals: p50 ≤ APScheduler's and ≤ the Node peer's, p99 ≤ half
    APScheduler's (a goal against a skipped peer is reported not met)."""
    aps, node = rows["APScheduler 3"], rows["Node.js (croner + fetch)"]
    aps_p99 = _figure(aps, "p99_ms")
    return [goal("lateness p50 vs APScheduler 3's", ours.get("p50_ms"),
                 _figure(aps, "p50_ms") or float("nan"), "ms"),
            goal("lateness p50 vs the Node.js peer's", ours.get("p50_ms"),
                 _figure(node, "p50_ms") or float("nan"), "ms"),
            goal("lateness p99 vs 0.5 × APScheduler 3's", ours.get("p99_ms"),
                 aps_p99 / 2 if aps_p99 is not None else float("nan"), "ms")]


def run(bench: Bench) -> dict[str, Any]:
    scale = bench.scale
    tasks = scale.of(10_000)
    timing: spread.Timing = {"warmup": scale.seconds(10, 0.2), "window": scale.seconds(180, 1),
              "drain": scale.seconds(3, 0.3)}
    rows: dict[str, dict[str, Any]] = {}
    print(f"lateness: {tasks:,} tasks, {timing['window']:.0f} s window", flush=True)
    rows["apicron"] = spread.apicron(bench, "lateness-apicron", tasks, **timing)
    rows["APScheduler 3"] = spread.apscheduler(bench, tasks, **timing)
    rows["Node.js (croner + fetch)"] = spread.node(bench, tasks, **timing)
    if tool("curl") is None:
        rows["cron-style curl"] = {"skipped": "skipped: not installed"}
    else:
        rows["cron-style curl"] = spread.cron_curl(bench, tasks, **timing)
    ours = rows["apicron"]
    goals = [goal(f"lateness {k.split('_')[0]}", ours.get(k), v, "ms") for k, v in GOALS.items()]
    goals += peer_goals(ours, rows)
    table = print_table(
        f"lateness: {tasks:,} tasks spread over each minute, {timing['window']:.0f} s",
        ["scheduler", "delivered", "expected", "missing", "dup", "p50 ms", "p99 ms", "max ms",
         "CPU s", "RSS MB", "p50 ratio", "p99 ratio"],
        [[name] + (
            [r["skipped"], "", "", "", "", "", "", "", "", "", ""] if "skipped" in r else
            [r["delivered"], r["expected"], r["missing"], r["duplicates"], r["p50_ms"],
             r["p99_ms"], r["max_ms"], r["cpu_s"], r["rss_mb"],
             ratio(r["p50_ms"], ours["p50_ms"]), ratio(r["p99_ms"], ours["p99_ms"])])
         for name, r in rows.items()],
        ["ratio = peer / apicron (above 1: apicron is earlier); CPU s: the scheduler "
         f"process's CPU time in the window; Node.js peer: {node_peer.version()}",
         *goal_lines(goals)],
    )
    return {"tasks": tasks, **timing, "rows": rows, "goals": goals, "table": table}
