"""CPU per call of the scheduler's firing path, without the scheduler around it.

    python -m bench.call_cost [--calls 20000] [--tasks 1000] [--profile]

Runs :meth:`apicron.engine.gateway_call.GatewayCaller.call` (the request built from the
task, the gateway's ``authorize()``, the occurrence signature, the aiohttp call, the
excerpt) for ``--calls`` calls over ``--tasks`` stored tasks, 64 at a time, against the
recording backend in its own process, and prints this process's CPU time per call (user +
system, so a loaded machine changes it less than it changes wall time), and, apart, the
CPU of building and authorizing one task's request from scratch (what every call did
before issue 20) against taking it from the per-task-version cache. ``--profile``
prints cProfile's top functions by own time. A measurement to compare two versions of the
code on the same machine in the same hour, not an absolute figure.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from apicron.domain.models import StoredTask
from apicron.engine.clock import SystemClock
from apicron.engine.gateway_call import GatewayCaller, _prepare
from apicron.gateway.proxy import backend_session
from apicron.gateway.snapshot import SnapshotCache
from apicron.services.context import new_id
from apicron.store.tables import tasks as task_table
from bench.apicron_instance import WAKER, Instance, TaskSpec
from bench.common import Scale, children
from bench.harness import Bench

CONCURRENCY = 64


async def _calls(instance: Instance, count: int,
                 profile: cProfile.Profile | None) -> dict[str, float]:
    ctx = instance.ctx
    with ctx.store.read() as q:
        rows = q.connection.execute(
            select(task_table).where(task_table.c.name != WAKER)).mappings().all()
    stored = [StoredTask.model_validate(dict(row)) for row in rows]
    cache = SnapshotCache(ctx)
    async with backend_session() as session:
        caller = GatewayCaller(cache, session, SystemClock())
        turn = itertools.cycle(stored)
        failed = 0

        async def worker(n: int) -> None:
            nonlocal failed
            for _ in range(n):
                outcome = await caller.call(next(turn), new_id(), datetime.now(UTC), 1)
                failed += outcome.error_kind is not None

        await asyncio.gather(*(worker(20) for _ in range(CONCURRENCY)))  # warm-up
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.enable()
        await asyncio.gather(*(worker(count // CONCURRENCY) for _ in range(CONCURRENCY)))
        if profile is not None:
            profile.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    done = count // CONCURRENCY * CONCURRENCY
    snapshot = await cache.current()
    return {"calls": done, "failed": failed, "cpu_us_per_call": cpu / done * 1e6,
            "calls_per_s": done / wall,
            "build_and_authorize_us": _each_us(
                stored, lambda t: _prepare(snapshot, t, datetime.now(UTC))),
            "cached_us": _each_us(stored, lambda t: caller._ready(snapshot, t))}


def _each_us(stored: list[StoredTask], work: Callable[[StoredTask], object]) -> float:
    """Best of 5 rounds of CPU µs per ``work(task)`` over every task, 10 times."""
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(10):
            for task in stored:
                work(task)
        rounds.append((time.process_time() - started) / (10 * len(stored)) * 1e6)
    return min(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="apicron-call-cost-") as workdir, \
            children() as group:
        bench = Bench(Scale(False), group, Path(workdir))
        bench.start_backend()
        instance = Instance(Path(workdir) / "data", bench.backend_url)
        instance.publish({"hook": "/apicron"})
        instance.insert_tasks([TaskSpec(f"t{i:06d}", "hook", "* * * * * ?")
                               for i in range(args.tasks)])
        profile = cProfile.Profile() if args.profile else None
        figures = asyncio.run(_calls(instance, args.calls, profile))
        instance.close()
    print(json.dumps(figures))
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
