"""Running one scheduler on the *spread* load (tasks ``S * * * * ?``, S = i mod 60) and
measuring a window of it; shared by the lateness and faults scenarios."""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import func, select

from apicron.store.tables import executions, tasks
from bench.apicron_instance import Instance, Server, TaskSpec
from bench.common import cpu_seconds, python_module, read_line, rss_mb, sleep_until
from bench.harness import Bench, expected_spread, occurrences
from bench.peers import node as node_peer

FAULTS = ("hang", "reset", "big", "trickle")


class Timing(TypedDict):
    """Seconds before the measured window, of the window, and after it."""

    warmup: float
    window: float
    drain: float


def measure_window(bench: Bench, pid: int, tasks: int, kinds: set[str], *, warmup: float,
                   window: float, drain: float) -> dict[str, Any]:
    """Lateness of the occurrences scheduled in a window that starts ``warmup`` s from now
    (start-up transients are not lateness), plus the CPU ``pid`` used in it and its RSS."""
    w0 = math.ceil(time.time() + warmup)
    w1 = w0 + math.ceil(window)
    sleep_until(w0 - 0.5)
    bench.records()  # what arrived before the window is not counted
    cpu0 = cpu_seconds(pid)
    sleep_until(w1)
    cpu = cpu_seconds(pid) - cpu0
    rss = rss_mb(pid)
    time.sleep(drain)
    got = occurrences(bench, bench.records(), kinds=kinds, window=(w0, w1))
    return {**got.figures(expected_spread(tasks, (w0, w1))), "cpu_s": cpu, "rss_mb": rss,
            "window_s": w1 - w0}


def apicron(bench: Bench, label: str, tasks: int, *, warmup: float, window: float,
            drain: float, faults: int = 0) -> dict[str, Any]:
    """apicron serving ``tasks`` spread tasks (and ``faults`` tasks per fault kind)."""
    folder = bench.workdir / label
    instance = Instance(folder, bench.backend_url)
    paths = {"hook": "/apicron"} | {kind: f"/fault/{kind}" for kind in FAULTS if faults}
    instance.publish(paths)
    specs = [TaskSpec(f"t{i:06d}", "hook", f"{i % 60} * * * * ?") for i in range(tasks)]
    specs += [TaskSpec(f"f-{kind}-{i:05d}", kind, f"{i % 60} * * * * ?")
              for kind in FAULTS for i in range(faults)]
    instance.insert_tasks(specs)
    server = Server(bench.group, instance, folder / "serve.log")
    try:
        server.start()
        instance.start_tasks(datetime.now(UTC))
        server.wake()
        figures = measure_window(bench, server.pid, tasks, {"apicron"}, warmup=warmup,
                                 window=window, drain=drain)
    finally:
        server.stop()
    if faults:
        figures["fault_outcomes"] = fault_outcomes(instance)
    instance.close()
    return figures


def fault_outcomes(instance: Instance) -> dict[str, dict[str, int]]:
    """How the fault tasks' executions ended, per fault kind (from apicron's own store)."""
    outcomes: dict[str, Counter[str]] = {kind: Counter() for kind in FAULTS}
    with instance.ctx.store.read() as q:
        rows = q.connection.execute(
            select(tasks.c.name, executions.c.status, executions.c.error_kind, func.count())
            .join(executions, executions.c.task_id == tasks.c.id)
            .where(tasks.c.name.like("f-%"))
            .group_by(tasks.c.name, executions.c.status, executions.c.error_kind)).all()
    for name, status, kind, count in rows:
        outcomes[name.split("-")[1]][f"{status} {kind or ''}".strip()] += count
    return {kind: dict(counter) for kind, counter in outcomes.items()}


def apscheduler(bench: Bench, tasks: int, *, warmup: float, window: float, drain: float,
                faults: int = 0) -> dict[str, Any]:
    mode = "faults" if faults else "spread"
    process = bench.group.start(
        python_module("bench.peers.apscheduler3", bench.backend_url, "--mode", mode,
                      "--tasks", tasks, "--faults", faults), stdout_pipe=True)
    try:
        ready = read_line(process, 300)
        figures = measure_window(bench, process.pid, tasks, {"aps"}, warmup=warmup,
                                 window=window, drain=drain)
    finally:
        bench.group.stop(process)
    return {**figures, "add_s": ready.get("add_s"), "start_s": ready.get("start_s")}


def node(bench: Bench, tasks: int, *, warmup: float, window: float,
         drain: float) -> dict[str, Any]:
    """The Node.js peer (croner + fetch) on the spread load, or why it was skipped."""
    why = node_peer.missing()
    if why is not None:
        return {"skipped": why}
    process = bench.group.start(node_peer.command(bench.backend_url, "--mode", "spread",
                                                  "--tasks", tasks), stdout_pipe=True)
    try:
        read_line(process, 120)
        return measure_window(bench, process.pid, tasks, {node_peer.KIND}, warmup=warmup,
                              window=window, drain=drain)
    finally:
        bench.group.stop(process)


def cron_curl(bench: Bench, tasks: int, *, warmup: float, window: float,
              drain: float) -> dict[str, Any]:
    process = bench.group.start(
        python_module("bench.peers.cron_curl", bench.backend_url, "--mode", "spread",
                      "--tasks", tasks), stdout_pipe=True)
    try:
        read_line(process, 60)
        return measure_window(bench, process.pid, tasks, {"curl"}, warmup=warmup,
                              window=window, drain=drain)
    finally:
        bench.group.stop(process)


def log_tail(path: Path, lines: int = 5) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
