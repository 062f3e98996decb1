"""Latency and throughput of a gateway call against a direct backend call, on loopback.

Run from the repository root::

    python -m bench.gateway_latency            # 2,000 requests per measurement
    python -m bench.gateway_latency --quick    # 300

It starts a real ``apicron serve`` (subprocess, fresh data directory) and a small aiohttp
backend (another subprocess), publishes one APP-auth API through the REST API, then with
one aiohttp client session measures, for (a) direct backend calls, (b) gateway calls with
``X-HW-ID`` / ``X-HW-AppKey`` and (c) gateway calls signed with SDK-HMAC-SHA256: latency
(one request at a time) and throughput (32 in flight). Signing is done before the clock
starts; its own cost is reported apart. Prints a table and writes
``bench/results/gateway.json``. Nothing is asserted: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web

from apicron.signing import sign_request

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105 - a throwaway instance
RESULTS = Path(__file__).parent / "results" / "gateway.json"
PAYLOAD = json.dumps({"id": 1, "name": "item", "tags": ["a", "b"]}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the backend (its own process, so that it does not share the client's CPU time) --------


def run_backend(port: int) -> None:
    async def answer(_request: web.BaseRequest) -> web.Response:
        return web.Response(body=PAYLOAD, content_type="application/json")

    async def main() -> None:
        runner = web.ServerRunner(web.Server(answer, access_log=None))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited at start (code {process.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start within 30 s")


@contextmanager
def processes(workdir: Path) -> Iterator[dict[str, Any]]:
    api_port, gateway_port, backend_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "APICRON_DATA_DIR": str(workdir / "data"),
        "APICRON_API_PORT": str(api_port),
        "APICRON_GATEWAY_PORT": str(gateway_port),
        "APICRON_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    log = (workdir / "apicron.log").open("wb")
    backend = subprocess.Popen(
        [sys.executable, "-m", "bench.gateway_latency", "--backend", str(backend_port)]
    )
    apicron = subprocess.Popen(
        [sys.executable, "-m", "apicron", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(f"http://127.0.0.1:{backend_port}/", backend, "the backend")
        wait_until_up(f"http://127.0.0.1:{api_port}/healthz", apicron, "apicron")
        yield {"api": api_port, "gateway": gateway_port, "backend": backend_port}
    finally:
        for process in (apicron, backend):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def publish(api_port: int, backend_port: int) -> dict[str, str]:
    """An app and a published APP-auth API it owns; answers the app's key and secret."""
    with httpx.Client(
        base_url=f"http://127.0.0.1:{api_port}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ) as client:

        def ok(response: httpx.Response) -> Any:
            response.raise_for_status()
            return response.json()

        app = ok(client.post("/v1/apps", json={"name": "bench-app"}))
        group = ok(client.post("/v1/api-groups", json={"name": "bench-grp", "app_id": app["id"]}))
        api = ok(
            client.post(
                "/v1/apis",
                json={
                    "group_id": group["id"], "name": "bench-items", "method": "GET",
                    "path": "/bench/items/{id}", "auth_type": "APP",
                    "backend_url": f"http://127.0.0.1:{backend_port}/items/{{id}}",
                },
            )
        )
        ok(client.post(f"/v1/apis/{api['id']}/publish"))
    return {"key": app["key"], "secret": app["secret"]}


# -- measuring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    scenario: str
    requests: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    throughput_rps: float
    loaded_p50_ms: float
    loaded_p99_ms: float


def percentile(sorted_ms: list[float], fraction: float) -> float:
    index = min(len(sorted_ms) - 1, round(fraction * (len(sorted_ms) - 1)))
    return sorted_ms[index]


Call = Callable[[int], Awaitable[float]]


async def run(call: Call, count: int, concurrency: int) -> tuple[list[float], float]:
    """``count`` calls, ``concurrency`` at a time; each call's ms, and the wall time in s."""
    durations: list[float] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            durations.append(await call(index))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return durations, time.perf_counter() - started


async def measure(
    name: str, call: Call, requests: int, warmup: int, concurrency: int
) -> Figures:
    await run(call, warmup, concurrency)
    alone, _ = await run(call, requests, 1)
    loaded, wall = await run(call, requests, concurrency)
    alone.sort()
    loaded.sort()
    return Figures(
        scenario=name,
        requests=requests,
        p50_ms=percentile(alone, 0.50),
        p99_ms=percentile(alone, 0.99),
        mean_ms=statistics.fmean(alone),
        throughput_rps=requests / wall,
        loaded_p50_ms=percentile(loaded, 0.50),
        loaded_p99_ms=percentile(loaded, 0.99),
    )


async def bench(ports: dict[str, int], app: dict[str, str], args: argparse.Namespace) -> dict[
    str, Any
]:
    direct_url = f"http://127.0.0.1:{ports['backend']}/items/1?view=full"
    gateway_url = f"http://127.0.0.1:{ports['gateway']}/bench/items/1?view=full"
    app_secret = {"X-HW-ID": app["key"], "X-HW-AppKey": app["secret"]}
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def timed(url: str, headers: dict[str, str]) -> float:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url} answered {response.status}: {await response.text()}")
            return (time.perf_counter() - started) * 1000

        async def direct(_: int) -> float:
            return await timed(direct_url, {})

        async def by_app_secret(_: int) -> float:
            return await timed(gateway_url, app_secret)

        async def signed(_: int) -> float:
            headers = sign_request("GET", gateway_url, {}, b"", key=app["key"],
                                   secret=app["secret"])
            return await timed(gateway_url, headers)

        scenarios: list[tuple[str, Call]] = [
            ("direct", direct), ("gateway X-HW-AppKey", by_app_secret),
            ("gateway signed", signed),
        ]
        results = [
            await measure(name, call, args.requests, args.warmup, args.concurrency)
            for name, call in scenarios
        ]

    signs = 2000
    started = time.perf_counter()
    for _ in range(signs):
        sign_request("GET", gateway_url, {}, b"", key=app["key"], secret=app["secret"])
    sign_us = (time.perf_counter() - started) / signs * 1e6
    return {"figures": results, "sign_us": sign_us}


def table(figures: list[Figures], sign_us: float, concurrency: int) -> str:
    direct = figures[0]
    lines = [
        f"{'scenario':<22}{'p50 ms':>8}{'p99 ms':>8}{'+p50':>8}{'+p99':>8}"
        f"{'req/s @' + str(concurrency):>12}{'p50@' + str(concurrency):>9}"
        f"{'p99@' + str(concurrency):>9}",
    ]
    for f in figures:
        added = f is not direct
        lines.append(
            f"{f.scenario:<22}{f.p50_ms:>8.2f}{f.p99_ms:>8.2f}"
            f"{(f.p50_ms - direct.p50_ms if added else 0):>8.2f}"
            f"{(f.p99_ms - direct.p99_ms if added else 0):>8.2f}"
            f"{f.throughput_rps:>12.0f}{f.loaded_p50_ms:>9.2f}{f.loaded_p99_ms:>9.2f}"
        )
    lines.append(f"(+p50/+p99: added by the gateway; signing one request client-side: "
                 f"{sign_us:.0f} µs, not included)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 requests instead of 2,000")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backend", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        run_backend(args.backend)
        return
    args.requests = args.requests or (300 if args.quick else 2000)
    args.warmup = 50 if args.quick else 200

    with tempfile.TemporaryDirectory(prefix="apicron-bench-") as workdir, processes(
        Path(workdir)
    ) as ports:
        app = publish(ports["api"], ports["backend"])
        outcome = asyncio.run(bench(ports, app, args))
    figures: list[Figures] = outcome["figures"]
    print(table(figures, outcome["sign_us"], args.concurrency))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": {
                    "cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "aiohttp": aiohttp.__version__,
                },
                "requests": args.requests,
                "concurrency": args.concurrency,
                "sign_us": outcome["sign_us"],
                "figures": [asdict(f) for f in figures],
                "added_ms": {
                    f.scenario: {
                        "p50": f.p50_ms - figures[0].p50_ms, "p99": f.p99_ms - figures[0].p99_ms
                    }
                    for f in figures[1:]
                },
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
