"""Alert delivery latency (issue 14): from a failed run to the webhook's receipt.

    python -m bench.alert_latency [--tasks 100]

A real ``apicron serve`` (SQLite, one process), a loopback backend answering 500 (then 200),
a loopback webhook receiver. ``--tasks`` tasks fire every second with the rule "alert on the
first failure, and on recovery": each makes one FAILURE event, then (backend switched to
200) one RECOVERY. Latency = receipt at the webhook − the execution's ``finished_at`` (when
apicron recorded the result that caused the event), from the event's own execution JSON.
Figures depend on the machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105 - a throw-away local instance


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Loopback:
    """The backend (``/job``: ``status``) and the webhook (``/hook``: records receipts)."""

    def __init__(self) -> None:
        self.status = 500
        self.receipts: list[tuple[float, dict[str, Any]]] = []
        self.port = _port()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> None:
        async def handle(request: web.BaseRequest) -> web.Response:
            if request.path == "/hook":
                body = json.loads(await request.read())
                self.receipts.append((time.time(), body))
                return web.Response(text="ok")
            return web.Response(status=self.status, text="{}")

        runner = web.ServerRunner(web.Server(handle, access_log=None))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args(argv)
    loopback = Loopback()
    api_port = _port()
    with tempfile.TemporaryDirectory(prefix="apicron-alert-bench-") as data:
        env = {**os.environ, "APICRON_DATA_DIR": data, "APICRON_ADMIN_TOKEN": TOKEN,
               "APICRON_API_PORT": str(api_port), "APICRON_GATEWAY_PORT": str(_port())}
        log = Path(data) / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen([sys.executable, "-m", "apicron", "serve"], env=env,
                                      stdout=out, stderr=subprocess.STDOUT)
        try:
            return _run(args.tasks, api_port, loopback)
        finally:
            server.terminate()
            server.wait(20)


def _run(count: int, api_port: int, loopback: Loopback) -> int:
    url = f"http://127.0.0.1:{api_port}"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30) as client:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("apicron did not start")
            time.sleep(0.1)
        app = client.post("/v1/apps", json={"name": "benchapp"}).json()
        group = client.post("/v1/api-groups", json={"name": "benchgroup",
                                                    "app_id": app["id"]}).json()
        api = client.post("/v1/apis", json={
            "group_id": group["id"], "name": "benchapi", "method": "GET", "path": "/bench/job",
            "auth_type": "APP", "backend_url": f"http://127.0.0.1:{loopback.port}/job",
            "publish": True}).json()
        channel = client.post("/v1/channels", json={
            "name": "benchhook", "kind": "webhook",
            "url": f"http://127.0.0.1:{loopback.port}/hook"}).json()
        ids = []
        for index in range(count):
            task = client.post("/v1/tasks", json={
                "name": f"bench{index:05d}", "app_id": app["id"], "api_id": api["id"],
                "trigger_type": "CRON", "cron_expression": "* * * * * ?",
                "alerts": {"channel_ids": [channel["id"]]}}).json()
            ids.append(task["id"])
        for task_id in ids:
            client.post(f"/v1/tasks/{task_id}/start")
        _wait(lambda: len(loopback.receipts) >= count, 120)
        loopback.status = 200
        _wait(lambda: len(loopback.receipts) >= 2 * count, 120)
        for task_id in ids:
            client.post(f"/v1/tasks/{task_id}/stop")
        events = client.get("/v1/alerts", params={"limit": 500}).json()["items"]
    created = {e["id"]: _instant(e["created_at"]) for e in events}
    sent = {e["id"]: _instant(e["sent_at"]) for e in events if e["sent_at"]}
    latencies: dict[str, list[float]] = {"FAILURE": [], "RECOVERY": []}
    queued: dict[str, list[float]] = {"FAILURE": [], "RECOVERY": []}
    ids_seen: set[str] = set()
    for received, body in loopback.receipts:
        ids_seen.add(body["event_id"])
        finished = _instant(body["execution"]["finished_at"])
        latencies[body["event"]].append((received - finished) * 1000)
        event_id = body["event_id"]
        if event_id in created and event_id in sent:
            queued[body["event"]].append((sent[event_id] - created[event_id]) * 1000)
    print(f"alert delivery latency, {count} tasks (failed run recorded -> webhook receipt; "
          "in brackets: event written -> delivery recorded):")
    for event, values in latencies.items():
        print(f"  {event:8s} n={len(values):4d}  p50 {statistics.median(values):7.1f} ms  "
              f"p99 {_percentile(values, 0.99):7.1f} ms  max {max(values):7.1f} ms  "
              f"[p50 {statistics.median(queued[event]):7.1f} ms, "
              f"p99 {_percentile(queued[event], 0.99):7.1f} ms]")
    print(f"  events received: {len(loopback.receipts)}, distinct ids: {len(ids_seen)}")
    return 0


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _wait(check: Any, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the alerts")
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
