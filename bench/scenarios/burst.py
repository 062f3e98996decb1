"""Burst: 10,000 tasks due in the same second. For apicron, APScheduler 3 (with its default
misfire grace of 1 s, and without), cron-style curl, and the physical limits measured in
the same run: a bare aiohttp client loop against the same backend, and wrk against nginx
(and against the backend itself).

"all delivered" is the last receipt − the scheduled second; calls/s is delivered / that.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
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
    sleep_until,
    tool,
)
from bench.harness import Bench, occurrences
from bench.peers import node as node_peer
from bench.peers import wrk_nginx

NAME = "burst"
GOAL_S = 2.5


def _collect(bench: Bench, kind: str, tasks: int, at: float, pid: int,
             limit: float) -> dict[str, Any]:
    """Receipts of the burst at ``at``: until all came, or none came for a while after
    the first (the peer dropped the rest), or ``limit`` s passed."""
    settle = 1.0 if tasks < 1000 else 3.0
    sleep_until(at)
    bench.wait_for(tasks, settle=settle, limit=limit)
    rss = rss_mb(pid)
    got = occurrences(bench, bench.records(), kinds={kind}, window=(at, at + 1))
    all_s = got.last_receipt - at if got.delivered else math.nan
    first_s = got.first_receipt - at if got.delivered else math.nan
    return {**got.figures(tasks), "dropped": tasks - got.delivered, "all_delivered_s": all_s,
            "first_delivered_s": first_s,
            "calls_per_s": got.delivered / all_s if got.delivered else math.nan,
            "rss_mb": rss}


def _apicron(bench: Bench, tasks: int, limit: float) -> dict[str, Any]:
    folder = bench.workdir / "burst-apicron"
    instance = Instance(folder, bench.backend_url)
    instance.publish({"hook": "/apicron"})
    instance.insert_tasks([TaskSpec(f"t{i:06d}", "hook", "0 * * * * ?") for i in range(tasks)])
    server = Server(bench.group, instance, folder / "serve.log")
    try:
        server.start()
        bench.records()
        # Far enough ahead for the UPDATE and the wake-up; the engine plans 1 s ahead.
        at = float(math.ceil(time.time() + bench.scale.seconds(2.5, 1.3)))
        second = datetime.fromtimestamp(at, UTC).second
        instance.set_cron(f"{second} * * * * ?")
        instance.start_tasks(datetime.fromtimestamp(at, UTC))
        server.wake()
        if time.time() > at - 1:
            print("  warning: apicron's tasks were started less than 1 s before the burst")
        return _collect(bench, "apicron", tasks, at, server.pid, limit)
    finally:
        server.stop()
        instance.close()


def _aps(bench: Bench, tasks: int, limit: float, no_grace: bool) -> dict[str, Any]:
    # Adding 10,000 jobs takes APScheduler a few seconds: the burst is after that.
    at = float(math.ceil(time.time() + bench.scale.seconds(1.5, 0.8) + tasks / 2500))
    command = python_module("bench.peers.apscheduler3", bench.backend_url, "--mode", "burst",
                            "--tasks", tasks, "--at", at)
    process = bench.group.start(command + (["--no-grace"] if no_grace else []),
                                stdout_pipe=True)
    try:
        bench.records()
        ready = read_line(process, 120)
        if ready["event"] != "ready":
            return {"skipped": "jobs added too late for the burst second"}
        return _collect(bench, "aps", tasks, at, process.pid, limit)
    finally:
        bench.group.stop(process)


def _peer_at(bench: Bench, module: str, kind: str, tasks: int, limit: float,
             *args: object) -> dict[str, Any]:
    # Creating a croner job takes ~1-3 ms here (10,000: up to 30 s on a loaded machine):
    # the burst is after that.
    ahead = bench.scale.seconds(1.5, 0.8) + (tasks / 300 if module == "node" else 0)
    at = float(math.ceil(time.time() + ahead))
    command = (node_peer.command(bench.backend_url, *args, "--at", at) if module == "node"
               else python_module(module, bench.backend_url, *args, "--at", at))
    process = bench.group.start(command, stdout_pipe=True)
    try:
        bench.records()
        ready = read_line(process, 60)
        if ready["event"] != "ready":
            return {"skipped": f"jobs scheduled too late for the burst second ({ready})"}
        return _collect(bench, kind, tasks, at, process.pid, limit)
    finally:
        bench.group.stop(process)


def _wrk(bench: Bench, tasks: int) -> dict[str, dict[str, Any]]:
    missing = wrk_nginx.missing()
    if missing:
        skipped = {"skipped": f"skipped: not installed ({', '.join(missing)})"}
        return {"wrk → nginx": skipped, "wrk → backend": dict(skipped)}
    seconds = bench.scale.seconds(5, 1)
    out: dict[str, dict[str, Any]] = {}
    _, url = wrk_nginx.start_nginx(bench.group, bench.workdir / "nginx")
    for name, target in (("wrk → nginx", url), ("wrk → backend", bench.backend_url + "/wrk")):
        figures = wrk_nginx.run_wrk(target, seconds, connections=256)
        out[name] = {"calls_per_s": figures["rps"], "all_delivered_s": tasks / figures["rps"],
                     "wrk": figures}
    bench.records()
    return out


def relative_goals(ours: dict[str, Any],
                   rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's goals against peers of the same run: all delivered no later than
    APScheduler without grace, at ≥ 0.7 × the bare loop's rate (as time: ≤ its time / 0.7)."""
    aps = rows["APScheduler 3 (no grace)"].get("all_delivered_s", math.nan)
    bare = rows["bare aiohttp loop (limit)"].get("all_delivered_s", math.nan)
    return [goal("burst all delivered vs APScheduler 3 (no grace)",
                 ours.get("all_delivered_s"), aps, "s"),
            goal("burst all delivered vs the bare loop's time / 0.7",
                 ours.get("all_delivered_s"), bare / 0.7, "s")]


def run(bench: Bench) -> dict[str, Any]:
    tasks = bench.scale.of(10_000)
    limit = bench.scale.seconds(60, 15)
    print(f"burst: {tasks:,} tasks due in the same second", flush=True)
    rows: dict[str, dict[str, Any]] = {}
    rows["apicron"] = _apicron(bench, tasks, limit)
    rows["APScheduler 3 (default grace 1 s)"] = _aps(bench, tasks, limit, no_grace=False)
    rows["APScheduler 3 (no grace)"] = _aps(bench, tasks, limit, no_grace=True)
    why = node_peer.missing()
    rows["Node.js (croner + fetch)"] = {"skipped": why} if why is not None else _peer_at(
        bench, "node", node_peer.KIND, tasks, limit, "--mode", "burst", "--tasks", tasks)
    if tool("curl") is None:
        rows["cron-style curl"] = {"skipped": "skipped: not installed"}
    else:
        rows["cron-style curl (256 at once)"] = _peer_at(
            bench, "bench.peers.cron_curl", "curl", tasks, limit, "--mode", "burst",
            "--tasks", tasks)
    rows["bare aiohttp loop (limit)"] = _peer_at(bench, "bench.peers.bare_client", "bare",
                                                 tasks, limit, "--count", tasks)
    rows.update(_wrk(bench, tasks))
    ours = rows["apicron"]
    goals = [goal("burst all delivered", ours.get("all_delivered_s"), GOAL_S, "s"),
             goal("burst dropped", ours.get("dropped"), 0, "tasks"),
             *relative_goals(ours, rows)]

    def line(name: str, r: dict[str, Any]) -> list[object]:
        if "skipped" in r:
            return [name, r["skipped"]] + [""] * 8
        if "wrk" in r:
            return [name, "", "", "", "", r["all_delivered_s"], r["calls_per_s"], "", "",
                    ratio(r["all_delivered_s"], ours["all_delivered_s"])]
        return [name, r["delivered"], r["dropped"], r["duplicates"], r["first_delivered_s"],
                r["all_delivered_s"], r["calls_per_s"], r["p50_ms"] / 1000, r["rss_mb"],
                ratio(r["all_delivered_s"], ours["all_delivered_s"])]

    table = print_table(
        f"burst: {tasks:,} tasks due in one second",
        ["scheduler", "delivered", "dropped", "dup", "first s", "all delivered s", "calls/s",
         "p50 s", "RSS MB", "time ratio"],
        [line(name, r) for name, r in rows.items()],
        ["time ratio = peer's time / apicron's (above 1: apicron is faster); wrk rows: "
         f"{tasks:,} / the rate wrk sustained (256 connections); Node.js peer: "
         f"{node_peer.version()} (fetch with 256 connections)", *goal_lines(goals)],
    )
    return {"tasks": tasks, "rows": rows, "goals": goals, "table": table}
