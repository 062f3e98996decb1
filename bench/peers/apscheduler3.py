"""APScheduler 3 as a user would run it: AsyncIOScheduler, cron triggers, in-memory job
store, one aiohttp session (256 connections, like apicron's backend pool), 5 s timeout.

    python -m bench.peers.apscheduler3 BACKEND --mode spread --tasks 10000
    python -m bench.peers.apscheduler3 BACKEND --mode burst --tasks 10000 --at EPOCH [--no-grace]
    python -m bench.peers.apscheduler3 BACKEND --mode faults --tasks 3000 --faults 60
    python -m bench.peers.apscheduler3 BACKEND --mode scale --tasks 100000
    python -m bench.peers.apscheduler3 BACKEND --mode capacity --tasks 2000

Job *i* calls ``/aps/<i>`` at second ``i mod 60`` of every minute (*spread*), or every job
at the second of ``--at`` (*burst*). APScheduler does not hand a job its scheduled time,
so the job works it out (the last time its second came round) and sends it as
``X-Apicron-Scheduled-Time``, like apicron. *faults* adds ``--faults`` jobs for each of
hang, reset, big and trickle; *scale* adds hourly jobs, starts, reports the time each took
and its memory, and exits. *capacity* runs every job every second: there the job cannot
work its time out from the clock (a run late by more than a second would name the wrong
second), so the executor hands it the run time APScheduler submitted (a context variable
set around ``_do_submit_job``; what runs, and when, is APScheduler's own).
Prints ``{"event": "ready", …}`` once its scheduler runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from apscheduler.executors.asyncio import AsyncIOExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

FAULTS = ("hang", "reset", "big", "trickle")
RUN_TIME: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("run_time",
                                                                          default=None)


class RunTimeExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """APScheduler's asyncio executor, telling the job which run time it was submitted for
    (the task it creates copies the context)."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        token = RUN_TIME.set(run_times[-1] if run_times else None)
        try:
            super()._do_submit_job(job, run_times)
        finally:
            RUN_TIME.reset(token)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def say(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def main(args: argparse.Namespace) -> None:
    # One warning per missed run (thousands in a burst) would drown the harness's output;
    # the harness counts what arrived instead.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256),
                                    timeout=aiohttp.ClientTimeout(total=5))

    async def job(second: int, path: str) -> None:
        submitted = RUN_TIME.get()
        if submitted is not None:
            scheduled = submitted.astimezone(UTC)
        else:
            now = datetime.now(UTC)
            scheduled = now.replace(second=second, microsecond=0)
            if scheduled > now:
                scheduled -= timedelta(minutes=1)
        stamp = scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            async with session.get(args.backend + path,
                                   headers={"X-Apicron-Scheduled-Time": stamp}) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            pass  # a failed call is the backend's fault here; lateness is what is measured

    scheduler = AsyncIOScheduler(timezone="UTC")
    if args.mode == "capacity":
        scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": RunTimeExecutor()})
    options: dict[str, Any] = {"misfire_grace_time": None} if args.no_grace else {}
    jobs: list[tuple[CronTrigger, list[object]]] = []
    if args.mode == "burst":
        at = datetime.fromtimestamp(args.at, UTC)
        trigger = CronTrigger(second=at.second, start_date=at, timezone="UTC")
        jobs = [(trigger, [at.second, f"/aps/{i}"]) for i in range(args.tasks)]
    elif args.mode == "capacity":
        jobs = [(CronTrigger(second="*", timezone="UTC"), [0, f"/aps/{i}"])
                for i in range(args.tasks)]
    elif args.mode == "scale":
        jobs = [(CronTrigger(second=i % 60, minute=(i // 60) % 60, timezone="UTC"),
                 [i % 60, f"/aps/{i}"]) for i in range(args.tasks)]
    else:
        jobs = [(CronTrigger(second=i % 60, timezone="UTC"), [i % 60, f"/aps/{i}"])
                for i in range(args.tasks)]
        if args.mode == "faults":
            jobs += [(CronTrigger(second=i % 60, timezone="UTC"), [i % 60, f"/fault/{kind}"])
                     for kind in FAULTS for i in range(args.faults)]
    started = time.perf_counter()
    for trigger, job_args in jobs:
        scheduler.add_job(job, trigger, args=job_args, **options)
    added = time.perf_counter() - started
    started = time.perf_counter()
    scheduler.start()
    # start() computes every job's next run time before returning.
    start_s = time.perf_counter() - started
    if args.mode == "burst" and time.time() > args.at:
        say("late", message="jobs were added after the burst second")
    say("ready", add_s=added, start_s=start_s, rss_mb=rss_mb(), jobs=len(jobs))
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend")
    parser.add_argument("--mode", choices=("spread", "burst", "faults", "scale", "capacity"),
                        required=True)
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--faults", type=int, default=0, help="jobs per fault kind")
    parser.add_argument("--at", type=float, default=0.0, help="burst second (epoch)")
    parser.add_argument("--no-grace", action="store_true", help="misfire_grace_time=None")
    asyncio.run(main(parser.parse_args()))
