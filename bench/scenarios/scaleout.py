"""Scale-out: the capacity scenario with 1, then 2 scheduler processes on one PostgreSQL.

The distributed path users take when they outgrow one process (README, "Running several
nodes"): one PostgreSQL database (a throw-away cluster started by the bench, as the tests
start theirs: :mod:`tests.pg_cluster`) and 1 or 2 engine processes that share the due
tasks through the database alone: ``apicron serve`` (management API, gateway and engine, as
``capacity`` runs it; its API starts the tasks, which wakes every engine) and, for 2,
``apicron serve --role scheduler`` beside it. Every step is a
fresh database with ``rate`` every-second tasks (``* * * * * ?``), stepped up like
``capacity`` (``--capacity-steps`` / ``--capacity-seconds`` apply here too), and *held* by
the same rule: every occurrence of the window reached the backend exactly once, p99
lateness under 1 s, no MISSED or SKIPPED row, every occurrence has a history row 3 s after
the window.

Reported: the largest held step for 1 and for 2 scheduler processes and their ratio (goal
≥ 1.5), the occurrences that reached the backend more than once (with 2 processes, summed
over every step tried), and how the work was shared: first attempts of the window per
node, from the ``attempts.node_id`` each node records.

    python -m bench --only scaleout --capacity-steps 100,250,500,1000 --capacity-seconds 20
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from apicron.store.tables import attempts, executions, nodes
from bench.apicron_instance import Instance, Server, TaskSpec
from bench.common import goal, goal_lines, percentile, print_table
from bench.harness import Bench
from bench.scenarios import capacity

if TYPE_CHECKING:
    from tests.pg_cluster import PostgresCluster

NAME = "scaleout"
PROCESSES = (1, 2)
# --quick (CI) checks the harness, not a figure: the 2-process run alone goes through every
# part (PostgreSQL, both kinds of node, the per-node counts, the held rule) at about half
# the cost (under load, each `apicron serve` takes 10-15 s to start here).
QUICK_PROCESSES = (2,)
QUICK_STEPS = (20,)
GOAL_RATIO = 1.5


def rates(bench: Bench) -> tuple[int, ...]:
    return bench.capacity_steps or (QUICK_STEPS if bench.scale.quick else capacity.STEPS)


def _first_attempts_by_node(instance: Instance, window: tuple[int, int]) -> dict[str, int]:
    """First attempts of the window's occurrences, by the node that recorded them."""
    w0, w1 = (datetime.fromtimestamp(w, UTC) for w in window)
    with instance.ctx.store.read() as q:
        rows = q.connection.execute(
            select(attempts.c.node_id, func.count())
            .select_from(attempts.join(executions, attempts.c.execution_id == executions.c.id))
            .where(executions.c.scheduled_at >= w0, executions.c.scheduled_at < w1,
                   executions.c.trigger == "SCHEDULE", attempts.c.number == 1)
            .group_by(attempts.c.node_id)).all()
    return {str(node): int(count) for node, count in rows}


def _skipped_after_the_previous_ended(instance: Instance,
                                      window: tuple[int, int]) -> dict[str, float]:
    """SKIPPED occurrences of the window, and how many of them were decided when the
    task's previous call had already ended (its last attempt's end ≤ the SKIPPED row's
    time): skipped for a RUNNING row whose result was not written yet, not for a call
    still running. One process knows its own calls in memory; another node's it reads
    from the store, so this counts what the nodes see late of each other."""
    w0, w1 = (datetime.fromtimestamp(w, UTC) for w in window)
    with instance.ctx.store.read() as q:
        skipped = q.connection.execute(
            select(executions.c.task_id, executions.c.scheduled_at, executions.c.finished_at)
            .where(executions.c.scheduled_at >= w0, executions.c.scheduled_at < w1,
                   executions.c.status == "SKIPPED")).all()
        ran = q.connection.execute(
            select(executions.c.task_id, executions.c.scheduled_at,
                   func.max(attempts.c.finished_at))
            .select_from(executions.join(attempts, attempts.c.execution_id == executions.c.id))
            .where(executions.c.scheduled_at >= w0 - timedelta(seconds=30),
                   executions.c.scheduled_at < w1)
            .group_by(executions.c.id, executions.c.task_id, executions.c.scheduled_at)).all()
    ended: dict[str, list[tuple[datetime, datetime]]] = {}
    for task_id, scheduled, finished in ran:
        ended.setdefault(str(task_id), []).append((scheduled, finished))
    stale: list[float] = []
    for task_id, scheduled, decided in skipped:
        before = [e for e in ended.get(str(task_id), []) if e[0] < scheduled]
        if before and decided is not None and max(before)[1] <= decided:
            stale.append((decided - max(before)[1]).total_seconds())
    stale.sort()
    return {"skipped": len(skipped), "previous_call_had_ended": len(stale),
            "ended_before_ms_p50": percentile(stale, 0.5) * 1000,
            "ended_before_ms_max": stale[-1] * 1000 if stale else math.nan}


def _scheduler_nodes(instance: Instance) -> dict[str, int]:
    """Node id → pid of the nodes running an engine now (a stopped node unregisters)."""
    with instance.ctx.store.read() as q:
        rows = q.connection.execute(
            select(nodes.c.id, nodes.c.pid).where(nodes.c.role.in_(("all", "scheduler")))
        ).all()
    return {str(node): int(pid) for node, pid in rows}


def _each(servers: Sequence[Server], action: Callable[[Server], object]) -> None:
    """``action`` on every server at once, in threads; the first error is raised after
    all are done (a failed start still leaves its process for the stop to end)."""
    with ThreadPoolExecutor(len(servers)) as pool:
        for done in [pool.submit(action, server) for server in servers]:
            done.result()


class _Run:
    """Steps of one process count against one PostgreSQL cluster (a database per step)."""

    def __init__(self, cluster: PostgresCluster, processes: int):
        self.cluster, self.processes = cluster, processes
        self.secret_key = Fernet.generate_key().decode()

    def step(self, bench: Bench, rate: int) -> dict[str, Any]:
        folder = bench.workdir / f"scaleout-{self.processes}-{rate}"
        folder.mkdir(parents=True, exist_ok=True)
        instance = Instance(folder, bench.backend_url,
                            database_url=self.cluster.create_database("scaleout"),
                            secret_key=self.secret_key)
        instance.publish({"hook": "/apicron"})
        instance.insert_tasks([TaskSpec(f"t{i:06d}", "hook", "* * * * * ?")
                               for i in range(rate)])
        # The first process is `apicron serve` as capacity runs it (its management API
        # starts the waker task: the way any start wakes the engines); the others are
        # scheduler nodes.
        schedulers = [Server(bench.group, instance, folder / f"scheduler-{i + 1}.log",
                             role="all" if i == 0 else "scheduler")
                      for i in range(self.processes)]
        registered: dict[str, int] = {}
        try:
            # Started (and stopped) side by side: each start is mostly the wait for
            # Python to import apicron, which would otherwise add up per process.
            _each(schedulers, Server.start)
            order = {s.pid: i + 1 for i, s in enumerate(schedulers)}
            instance.start_tasks(datetime.now(UTC))
            schedulers[0].wake()
            window = capacity._window(bench)
            figures = capacity._measure(bench, "apicron", rate, window,
                                        *(s.pid for s in schedulers))
            registered = _scheduler_nodes(instance)
        finally:
            _each(schedulers, Server.stop)
        history = capacity._history(instance, window)
        by_node = _first_attempts_by_node(instance, window)
        figures["skips"] = _skipped_after_the_previous_ended(instance, window)
        instance.close()
        figures["by_node"] = dict(sorted(
            (f"scheduler {order.get(registered.get(node, -1), '?')} ({node})", count)
            for node, count in by_node.items()))
        return capacity.judge_history(figures, history)


def _shares(step: dict[str, Any]) -> str:
    counts: dict[str, int] = step.get("by_node", {})
    total = sum(counts.values())
    if not total:
        return "—"
    return " / ".join(f"{n:,} ({n / total:.0%})" for n in counts.values())


def run(bench: Bench) -> dict[str, Any]:
    steps = rates(bench)
    counts = QUICK_PROCESSES if bench.scale.quick else PROCESSES
    title = (f"scaleout: capacity with {' and '.join(map(str, counts))} scheduler "
             f"processes on one PostgreSQL, {capacity.step_seconds(bench):.0f} s a step")
    try:
        from tests.pg_cluster import PostgresCluster

        cluster = PostgresCluster()  # finds the server's binaries, or says they are missing
    except (ImportError, RuntimeError) as exc:
        why = f"skipped: {exc}"
        table = print_table(title, ["scheduler processes", "held calls/s"],
                            [[str(n), why] for n in counts])
        return {"skipped": why, "table": table}
    print(f"scaleout: every-second tasks at {', '.join(f'{s:,}' for s in steps)} calls/s, "
          f"{capacity.step_seconds(bench):.0f} s a step, "
          f"{' then '.join(map(str, counts))} scheduler processes", flush=True)
    try:
        cluster.start()
        rows = {n: capacity.climb(bench, f"{n} scheduler process{'es' if n > 1 else ''}",
                                  _Run(cluster, n).step, steps) for n in counts}
    finally:
        cluster.stop()
    one, two = rows.get(1, {}).get("capacity", 0), rows[2]["capacity"]
    # 1 process holding the top step tried says nothing of what 2 add: not a ratio.
    bounded = 1 in rows and rows[1]["saturated"] is not None
    ratio = two / one if one and bounded else math.nan
    duplicates = sum(t["duplicates"] for t in rows[2]["steps"])
    goals = [goal(f"scale-out: 2 scheduler processes' held calls/s vs {GOAL_RATIO} × one's",
                  ratio, GOAL_RATIO, "×", at_least=True),
             goal("scale-out: occurrences delivered twice with 2 processes (every step)",
                  duplicates, 0, "occurrences")]

    def line(n: int, r: dict[str, Any]) -> list[object]:
        last = r["steps"][-1]
        held = [t for t in r["steps"] if t["held"]]
        shown = held[-1] if held else last
        return [n, r["capacity"],
                f"{last['rate']:,}: {'held' if last['held'] else last['why_not']}",
                last["p50_ms"], last["p99_ms"], last["cpu_per_call_ms"],
                sum(t["duplicates"] for t in r["steps"]),
                f"{last['skips']['skipped']:,} / {last['skips']['previous_call_had_ended']:,}"
                + (f" (by p50 {last['skips']['ended_before_ms_p50']:,.0f} ms)"
                   if last["skips"]["previous_call_had_ended"] else ""),
                f"{shown['rate']:,}: {_shares(shown)}",
                " ".join(f"{t['rate']:,}{'✓' if t['held'] else '✗'}" for t in r["steps"])]

    notes = ["held: as capacity (every occurrence of the window delivered once, none "
             "missed, skipped, lost or doubled, p99 lateness < 1 s, a history row for each); "
             "1: `apicron serve`; 2: the same + `apicron serve --role scheduler`; a fresh "
             "database a step; "
             "p50/p99/CPU (summed over the schedulers) of the last step tried; "
             "per node: first attempts of the window each scheduler recorded, at the "
             "largest held step (else the last tried)",
             "SKIPPED / previous call had ended (last step tried): occurrences recorded "
             "SKIPPED by the overlap rule, and of them those decided after the task's "
             "previous call had ended, and by how long (p50) it had (a node reads another "
             "node's calls from the store, RUNNING until that node writes its results)"]
    if 1 not in rows:
        notes.append("--quick: 2 processes only (the harness is checked, not the ratio)")
    elif not bounded:
        notes.append("1 process held every step tried: add higher --capacity-steps for a "
                     "ratio")
    else:
        notes.append(f"ratio 2 / 1 processes: {two:,} / {one:,} = ×{ratio:.2f}")
    table = print_table(
        title,
        ["scheduler processes", "held calls/s", "last step tried", "p50 ms", "p99 ms",
         "CPU ms/call", "delivered twice", "SKIPPED / previous call had ended",
         "first attempts per node", "steps"],
        [line(n, r) for n, r in rows.items()],
        [*notes, *goal_lines(goals)],
    )
    return {"steps": steps, "step_s": capacity.step_seconds(bench),
            "rows": {str(n): r for n, r in rows.items()}, "ratio": ratio, "goals": goals,
            "table": table}
