"""Gateway: what an APP-auth call through the gateway adds to a direct backend call.

One published APP-auth API ``GET /bench/items`` in front of the recording backend's
``/items``. With one aiohttp client session (its own process is this one): **latency**
with one request at a time (p50, p99) and **throughput** with 32 in flight, for the
direct call, the gateway with ``X-HW-ID`` / ``X-HW-AppKey`` (the scheduler's way) and the
gateway with an SDK-HMAC-SHA256 signature (signed before the clock starts). Then the
maximum throughput as wrk (C) sees it, 64 connections, for the same three and for nginx
(the machine's limit). ``+p50`` is the gateway's addition to the direct call. Last, the
same wrk through ``apicron serve`` with ``APICRON_GATEWAY_WORKERS=2``, as a ratio to one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from apicron.signing import sign_request
from bench.apicron_instance import Instance, Server
from bench.common import goal, goal_lines, percentile, print_table, ratio
from bench.harness import Bench
from bench.peers import wrk_nginx

NAME = "gateway"
# Issue 20: the gateway adds at most half a millisecond to a direct call (p50).
GOAL_ADDED_P50_MS = 0.5
GOAL_WORKERS_RATIO = 1.4
CONCURRENCY = 32

Call = Callable[[], Awaitable[float]]


async def _run(call: Call, count: int, concurrency: int) -> tuple[list[float], float]:
    """``count`` calls, ``concurrency`` at a time: each call's ms (sorted), and wall s."""
    durations: list[float] = []
    left = count

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            durations.append(await call())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sorted(durations), time.perf_counter() - started


async def _measure(urls: dict[str, tuple[str, Callable[[], dict[str, str]]]], requests: int,
                   warmup: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        for name, (url, headers_of) in urls.items():
            # Headers (and signatures) are made before the clock starts.
            pool = [headers_of() for _ in range(min(requests, 500))]
            turn = 0

            async def timed(url: str = url, pool: list[dict[str, str]] = pool) -> float:
                nonlocal turn
                headers = pool[turn % len(pool)]
                turn += 1
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{url} answered {response.status}")
                return (time.perf_counter() - started) * 1000

            await _run(timed, warmup, CONCURRENCY)
            alone, _ = await _run(timed, requests, 1)
            loaded, wall = await _run(timed, requests, CONCURRENCY)
            out[name] = {"p50_ms": percentile(alone, 0.5), "p99_ms": percentile(alone, 0.99),
                         "rps_aiohttp": requests / wall,
                         "loaded_p50_ms": percentile(loaded, 0.5),
                         "loaded_p99_ms": percentile(loaded, 0.99)}
    return out


def run(bench: Bench) -> dict[str, Any]:
    requests = bench.scale.of(2000, minimum=300) if bench.scale.quick else 3000
    warmup = 50 if bench.scale.quick else 300
    folder = bench.workdir / "gateway-apicron"
    instance = Instance(folder, bench.backend_url)
    instance.publish({"items": "/items"})
    server = Server(bench.group, instance, folder / "serve.log")
    server.start()
    try:
        direct = f"{bench.backend_url}/items?view=full"
        through = f"http://127.0.0.1:{server.gateway_port}/bench/items?view=full"
        key, secret = instance.app_key, instance.app_secret
        by_secret = {"X-HW-ID": key, "X-HW-AppKey": secret}

        def signed() -> dict[str, str]:
            return sign_request("GET", through, {}, b"", key=key, secret=secret)

        def no_headers() -> dict[str, str]:
            return {}

        urls: dict[str, tuple[str, Callable[[], dict[str, str]]]] = {
            "direct": (direct, no_headers),
            "gateway X-HW-AppKey": (through, lambda: by_secret),
            "gateway signed": (through, signed)}
        rows: dict[str, dict[str, Any]] = asyncio.run(_measure(urls, requests, warmup))
        signs = 2000
        started = time.perf_counter()
        for _ in range(signs):
            signed()
        sign_us = (time.perf_counter() - started) / signs * 1e6
        missing = wrk_nginx.missing()
        seconds = bench.scale.seconds(5, 1)
        if missing:
            for row in rows.values():
                row["wrk"] = {"skipped": f"skipped: not installed ({', '.join(missing)})"}
        else:
            for name, (url, headers_of) in urls.items():
                # A signature stays valid for 15 minutes: wrk replays one.
                rows[name]["wrk"] = wrk_nginx.run_wrk(url, seconds, headers=headers_of())
            _, nginx = wrk_nginx.start_nginx(bench.group, bench.workdir / "nginx-gateway")
            rows["nginx (limit)"] = {"wrk": wrk_nginx.run_wrk(nginx, seconds)}
    finally:
        server.stop()
    try:
        workers = _one_vs_two_workers(bench, instance, folder, rows, seconds, missing)
    finally:
        instance.close()
    bench.records()
    base = rows["direct"]
    for row in rows.values():
        if "p50_ms" in row:
            row["added_p50_ms"] = row["p50_ms"] - base["p50_ms"]
            row["added_p99_ms"] = row["p99_ms"] - base["p99_ms"]
    goals = [goal("gateway added p50", rows["gateway X-HW-AppKey"]["added_p50_ms"],
                  GOAL_ADDED_P50_MS, "ms"),
             goal("2 gateway workers / 1 (wrk req/s)", workers.get("ratio"),
                  GOAL_WORKERS_RATIO, "×", at_least=True)]

    def line(name: str, r: dict[str, Any]) -> list[object]:
        wrk = r.get("wrk", {})
        rps = wrk.get("rps")
        head: list[object] = [name, r.get("p50_ms"), r.get("p99_ms"), r.get("added_p50_ms"),
                              r.get("added_p99_ms"), r.get("rps_aiohttp"),
                              r.get("loaded_p99_ms")]
        return [*head, wrk.get("skipped", rps), wrk.get("p99_ms"),
                ratio(base["wrk"].get("rps"), rps) if rps else "—"]

    table = print_table(
        f"gateway: APP-auth call vs direct, {requests:,} requests each",
        ["call", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms", f"req/s @{CONCURRENCY}",
         f"p99 ms @{CONCURRENCY}", "wrk req/s", "wrk p99 ms", "direct/this"],
        [line(name, r) for name, r in rows.items()],
        [f"latency: one request at a time (aiohttp); req/s: aiohttp client, {CONCURRENCY} in "
         f"flight; wrk: 64 connections, {seconds:.0f} s; direct/this = direct wrk req/s / "
         f"this row's; signing one request: {sign_us:.0f} µs (not timed)",
         f"gateway workers (APICRON_GATEWAY_WORKERS, X-HW-AppKey, wrk as above): "
         f"{_workers_line(workers)}",
         *goal_lines(goals)],
    )
    return {"requests": requests, "rows": rows, "sign_us": sign_us, "goals": goals,
            "workers": workers, "table": table}


def _one_vs_two_workers(
    bench: Bench, instance: Instance, folder: Path, rows: dict[str, dict[str, Any]],
    seconds: float, missing: list[str],
) -> dict[str, Any]:
    """wrk through ``apicron serve`` with APICRON_GATEWAY_WORKERS=2, against the one-worker
    row measured just before with the same wrk (issue 20: a gateway that uses every core)."""
    if missing:
        return {"skipped": f"skipped: not installed ({', '.join(missing)})"}
    one = rows["gateway X-HW-AppKey"]["wrk"]
    server = Server(bench.group, instance, folder / "serve-2-workers.log",
                    env={"APICRON_GATEWAY_WORKERS": "2"})
    server.start()
    try:
        through = f"http://127.0.0.1:{server.gateway_port}/bench/items?view=full"
        headers = {"X-HW-ID": instance.app_key, "X-HW-AppKey": instance.app_secret}
        wrk_nginx.run_wrk(through, 1, headers=headers)  # both workers warm
        two = wrk_nginx.run_wrk(through, seconds, headers=headers)
    finally:
        server.stop()
    rate = two["rps"] / one["rps"] if one["rps"] > 0 else float("nan")
    return {"one": one, "two": two, "ratio": rate}


def _workers_line(workers: dict[str, Any]) -> str:
    if "skipped" in workers:
        return str(workers["skipped"])
    one, two = workers["one"], workers["two"]
    return (f"1 worker {one['rps']:,.0f} req/s (p99 {one.get('p99_ms', float('nan')):.1f} "
            f"ms), 2 workers {two['rps']:,.0f} req/s (p99 "
            f"{two.get('p99_ms', float('nan')):.1f} ms): ×{workers['ratio']:.2f}")
