"""Firing lateness and burst delivery of apicron against APScheduler 3, same run, same box.

Run from the repository root (APScheduler 3 is the peer: ``pip install 'apscheduler<4'``)::

    python -m bench.engine_lateness                 # 10,000 tasks, 3 minutes, then a burst
    python -m bench.engine_lateness --quick         # 100 tasks, 20 s, burst of 100

Scenario *spread*: N cron tasks, ``S * * * * ?`` with S = i mod 60 (about N/60 due every
second). Scenario *burst*: N tasks all due in the same second. Both call one aiohttp
backend (its own process) that records, for every request, receipt time minus scheduled
time (apicron sends ``X-Apicron-Scheduled-Time``; the APScheduler job sends the time it
was scheduled for). apicron runs as a real ``apicron serve`` (tasks created through its
services into the SQLite file first, APP authentication through the gateway pipeline);
APScheduler runs an AsyncIOScheduler with cron triggers and one aiohttp session, in its
own process, with its default misfire grace time (as a user would have it) and, for the
burst, also without it. Prints a table with ratios and writes
``bench/results/engine_lateness.json``. Nothing is asserted: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105 - a throwaway instance
RESULTS = Path(__file__).parent / "results" / "engine_lateness.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the recording backend (own process) -----------------------------------------------------


def run_backend(port: int) -> None:
    lateness: list[float] = []
    seen: dict[str, int] = {}

    async def answer(request: web.BaseRequest) -> web.Response:
        received = time.time()
        if request.path == "/stats":
            duplicates = sum(n - 1 for n in seen.values() if n > 1)
            body = json.dumps({"lateness": lateness, "duplicates": duplicates})
            lateness.clear()
            seen.clear()
            return web.Response(text=body, content_type="application/json")
        scheduled = request.headers.get("X-Apicron-Scheduled-Time", "")
        key = request.headers.get("X-Apicron-Execution-Id", "") + scheduled + request.path
        seen[key] = seen.get(key, 0) + 1
        when = datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp()
        lateness.append(received - when)
        return web.Response(text="ok")

    async def main() -> None:
        runner = web.ServerRunner(web.Server(answer, access_log=None))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        await asyncio.Event().wait()

    asyncio.run(main())


# -- APScheduler 3, the peer (own process) ---------------------------------------------------


def run_apscheduler(backend: str, tasks: int, burst: bool, start: float, grace: str) -> None:
    import aiohttp
    from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
    from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

    async def main() -> None:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))

        async def job(second: int, path: str) -> None:
            now = datetime.now(UTC)
            scheduled = now.replace(second=second, microsecond=0)
            if scheduled > now:
                scheduled -= timedelta(minutes=1)
            stamp = scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
            async with session.get(backend + path,
                                   headers={"X-Apicron-Scheduled-Time": stamp}) as response:
                await response.read()

        scheduler = AsyncIOScheduler(timezone="UTC")
        first = datetime.fromtimestamp(start, UTC)
        for i in range(tasks):
            second = first.second if burst else i % 60
            kwargs: dict[str, Any] = {} if grace == "default" else {"misfire_grace_time": None}
            scheduler.add_job(job, CronTrigger(second=second, start_date=first, timezone="UTC"),
                              args=[second, f"/aps/{i}"], **kwargs)
        scheduler.start()
        await asyncio.Event().wait()

    asyncio.run(main())


# -- apicron ---------------------------------------------------------------------------------


def prepare_apicron(data_dir: Path, backend: str, tasks: int, burst: bool, lead: float) -> float:
    """Create the app, API and tasks through apicron's own services, into its SQLite file,
    then start them all at once for a schedule beginning ``lead`` seconds later; returns
    that start (epoch seconds).

    Starting 10,000 tasks one REST call (or service call) at a time takes about a minute
    here, so the harness starts them with one UPDATE that sets exactly what
    ``start_task`` would (status, next fire time from the task's own trigger): the
    schedule must not begin while tasks are still being created.
    """
    from sqlalchemy import bindparam, update

    from apicron.domain.models import ApiCreate, AppCreate, GroupCreate, TaskCreate
    from apicron.server import open_runtime
    from apicron.services import apis, apps, groups
    from apicron.services import tasks as task_service
    from apicron.settings import load_settings
    from apicron.store.tables import tasks as task_table

    settings = load_settings({"APICRON_DATA_DIR": str(data_dir), "APICRON_ADMIN_TOKEN":
                              ADMIN_TOKEN})
    ctx = open_runtime(settings, announce_token=False).ctx
    app = apps.create_app(ctx, AppCreate(name="bench"))
    group = groups.create_group(ctx, GroupCreate(name="bench", app_id=app.id))
    api = apis.create_api(ctx, ApiCreate(group_id=group.id, name="hook", method="GET",
                                         path="/hook", backend_url=backend + "/apicron"))
    apis.publish_api(ctx, api.id)
    created = []
    for i in range(tasks):
        # The burst's second is fixed after creation (below), by then the start is known.
        task = task_service.create_task(ctx, TaskCreate(
            name=f"t{i:06d}", app_id=app.id, api_id=api.id, trigger_type="CRON",
            cron_expression=f"{i % 60} * * * * ?"))
        created.append(task)
    start = float(int(time.time() + lead))
    first = datetime.fromtimestamp(start, UTC)
    rows = []
    for i, task in enumerate(created):
        second = first.second if burst else i % 60
        expression = f"{second} * * * * ?"
        schedule = task_service.schedule_of(
            task.model_copy(update={"cron_expression": expression, "effective_time": first}))
        rows.append({"task_id": task.id, "expression": expression, "effective": first,
                     "next_fire": schedule.first_at_or_after(first)})
    with ctx.store.write() as q:
        q.connection.execute(
            update(task_table)
            .where(task_table.c.id == bindparam("task_id"))
            .values(cron_expression=bindparam("expression"),
                    effective_time=bindparam("effective"), status="STARTED",
                    next_fire_time=bindparam("next_fire")),
            rows,
        )
    ctx.store.close()
    return start


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summarize(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"count": len(ordered), "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "max_ms": ordered[-1] * 1000, "mean_ms": statistics.fmean(ordered) * 1000}


def stats(backend: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(backend + "/stats", timeout=30).json()
    return body


def measure(label: str, command: list[str], env: dict[str, str], backend: str, seconds: float,
            start: float, warmup: float) -> dict[str, Any]:
    """Run ``command`` and collect what the backend received from ``start + warmup`` on,
    for ``seconds``."""
    stats(backend)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        time.sleep(max(start + warmup - time.time(), 0))
        stats(backend)  # what arrived before the window is not counted
        time.sleep(seconds)
        rss = rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    time.sleep(0.5)
    got = stats(backend)
    result = {"label": label, **summarize(got["lateness"]), "duplicates": got["duplicates"],
              "rss_mb": round(rss, 1)}
    print(f"  {label:<38} {result}", flush=True)
    return result


def scenario(name: str, tasks: int, seconds: float, backend: str, burst: bool,
             with_aps: bool) -> list[dict[str, Any]]:
    print(f"{name}: {tasks} tasks", flush=True)
    out = []
    # The spread is measured after a warm-up (start-up transients are not lateness); a
    # burst is its first second, so it is measured from just before.
    warmup = -1.0 if burst else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        created = time.monotonic()
        start = prepare_apicron(Path(tmp), backend, tasks, burst, lead=10)
        print(f"  created {tasks} tasks in {time.monotonic() - created:.1f} s", flush=True)
        env = {**os.environ, "APICRON_DATA_DIR": tmp, "APICRON_ADMIN_TOKEN": ADMIN_TOKEN,
               "APICRON_API_PORT": str(free_port()), "APICRON_GATEWAY_PORT": str(free_port())}
        out.append(measure("apicron", [sys.executable, "-m", "apicron", "serve"], env, backend,
                           seconds, start, warmup))
    if with_aps:
        for grace in (("default", "none") if burst else ("default",)):
            # Adding 10,000 jobs takes APScheduler a few seconds: give it the same lead.
            start = float(int(time.time()) + 10)
            command = [sys.executable, "-c",
                       "import bench.engine_lateness as b, sys; "
                       f"b.run_apscheduler({backend!r}, {tasks}, {burst}, {start}, {grace!r})"]
            out.append(measure(f"APScheduler 3 (misfire grace {grace})", command,
                               dict(os.environ), backend, seconds, start, warmup))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/100 scale")
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--apicron-only", action="store_true", help="skip the peer")
    args = parser.parse_args()
    tasks = args.tasks or (100 if args.quick else 10_000)
    seconds = args.seconds or (20.0 if args.quick else 180.0)
    try:
        import apscheduler  # type: ignore[import-untyped]  # noqa: F401

        with_aps = not args.apicron_only
    except ImportError:
        print("APScheduler 3 is not installed: measuring apicron alone", flush=True)
        with_aps = False
    port = free_port()
    backend_process = subprocess.Popen(
        [sys.executable, "-c", f"import bench.engine_lateness as b; b.run_backend({port})"])
    backend = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                stats(backend)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        results = {
            "spread": scenario("spread over the minute", tasks, seconds, backend, False,
                               with_aps),
            "burst": scenario("burst (all due in one second)", tasks, 15.0, backend, True,
                              with_aps),
        }
    finally:
        backend_process.terminate()
        backend_process.wait(10)
    for name, rows in results.items():
        base = rows[0]
        for row in rows[1:]:
            if base.get("p99_ms") and row.get("p99_ms"):
                print(f"{name}: {row['label']} p50 ×{row['p50_ms'] / base['p50_ms']:.1f}, "
                      f"p99 ×{row['p99_ms'] / base['p99_ms']:.1f} of apicron's")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "tasks": tasks, "seconds": seconds, "results": results,
    }, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
