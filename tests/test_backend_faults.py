"""Backends that misbehave: each execution records the right error kind, and a healthy task
firing every second alongside fires every occurrence.

The real-server test runs a real ``apicron serve`` (real clock, real engine) against a
backend that hangs, resets connections, answers 10 MB, trickles bytes, refuses TLS or is
not there at all. The DNS case runs in-process with a resolver that fails on purpose, since
a test cannot rely on what a real resolver does with a name that does not exist.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from apicron.domain.models import ApiCreate, AppCreate, GroupCreate, StoredTask, TaskCreate
from apicron.engine.clock import SystemClock
from apicron.engine.gateway_call import GatewayCaller
from apicron.gateway.proxy import backend_session
from apicron.gateway.snapshot import SnapshotCache
from apicron.server import open_runtime
from apicron.services import apis, apps, groups, tasks
from apicron.services.context import Context
from apicron.settings import load_settings
from tests.conftest import World, unique
from tests.reliability_helpers import assert_healthy, log_mark, wait_for
from tests.servers import ADMIN_TOKEN, ApicronProcess, free_port
from tests.threaded_server import ThreadedServer

TEN_MB = 10 * 1000 * 1000


class FaultyBackend(ThreadedServer):
    """An aiohttp server in a thread of its own; the first path segment picks the fault."""

    SHUTDOWN_TIMEOUT = 0.5  # hanging and trickling calls are cut, not waited for
    STOP_WAIT = 20.0

    def __init__(self) -> None:
        super().__init__()
        self.healthy_calls: list[tuple[str, str]] = []
        """X-Apicron-Task-Id and X-Apicron-Scheduled-Time of every call to ``/ok``."""

    def url(self, fault: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{fault}"

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        await request.read()
        fault = request.path.strip("/")
        if fault == "ok":
            self.healthy_calls.append(
                (request.headers["X-Apicron-Task-Id"], request.headers["X-Apicron-Scheduled-Time"])
            )
            return web.Response(text="ok")
        if fault == "hang":
            await asyncio.sleep(3600)
        if fault == "reset":
            assert request.transport is not None
            sock = request.transport.get_extra_info("socket")
            # SO_LINGER 0: close() sends a TCP RST instead of a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.transport.abort()
            return web.Response()
        stream = web.StreamResponse()
        stream.content_type = "text/plain"
        if fault == "big":
            stream.content_length = TEN_MB
        await stream.prepare(request)
        if fault == "big":
            chunk = b"x" * 100_000
            for _ in range(TEN_MB // len(chunk)):
                await stream.write(chunk)
        else:  # trickle: a byte every 200 ms, far past any timeout
            for _ in range(300):
                await stream.write(b".")
                await asyncio.sleep(0.2)
        await stream.write_eof()
        return stream


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultyBackend]:
    backend = FaultyBackend().start()
    yield backend
    backend.stop()


# -- a real server: kinds, and the healthy task keeps its schedule ------------------------------

# (backend URL maker, timeout ms) -> expected (status, error_kind)
FAULTS: dict[str, tuple[Any, int, tuple[str, str | None]]] = {
    "hang": (lambda b: b.url("hang"), 1000, ("FAILED", "TIMEOUT")),
    "trickle": (lambda b: b.url("trickle"), 1000, ("FAILED", "TIMEOUT")),
    "reset": (lambda b: b.url("reset"), 5000, ("FAILED", "CONNECT")),
    "refused": (lambda b: f"http://127.0.0.1:{free_port()}/x", 5000, ("FAILED", "CONNECT")),
    "tls": (lambda b: b.url("ok", scheme="https"), 5000, ("FAILED", "TLS")),
    "big": (lambda b: b.url("big"), 20000, ("SUCCEEDED", None)),
}


def executions(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/tasks/{task_id}/executions", params={"limit": 500})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return sorted(items, key=lambda e: e["scheduled_at"])


def finished(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    return [e for e in executions(client, task_id) if e["finished_at"] is not None]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_faulty_backends_record_their_kind_while_a_healthy_task_fires_every_second(
    server: ApicronProcess, client: httpx.Client, world: World, faulty: FaultyBackend
) -> None:
    mark = log_mark(server)
    app = world.app()
    group = world.group(app)

    def task_for(backend_url: str, timeout_ms: int, cron: str) -> dict[str, Any]:
        api = world.api(group, method="GET", path=f"/{unique('fault')}",
                        backend_url=backend_url, backend_timeout_ms=timeout_ms)
        return world.task(app, api, cron_expression=cron, max_retries=0)

    healthy = task_for(faulty.url("ok"), 5000, "* * * * * ?")
    faults = {name: task_for(make(faulty), timeout, "*/2 * * * * ?")
              for name, (make, timeout, _) in FAULTS.items()}
    started = [healthy, *faults.values()]
    try:
        for task in started:
            world.ok(client.post(f"/v1/tasks/{task['id']}/start"))
        wait_for(
            lambda: len(finished(client, healthy["id"])) >= 8
            and all(len(finished(client, t["id"])) >= 2 for t in faults.values()),
            limit=90, what="eight healthy fires and two of each fault",
        )
    finally:
        for task in started:
            client.post(f"/v1/tasks/{task['id']}/stop")
    wait_for(
        lambda: all(e["finished_at"] for t in started for e in executions(client, t["id"])
                    if e["status"] != "SKIPPED"),
        limit=60, what="every execution finished",
    )

    fired = executions(client, healthy["id"])
    times = [at(e["scheduled_at"]) for e in fired]
    assert times == [times[0] + timedelta(seconds=i) for i in range(len(times))], times
    assert {e["status"] for e in fired} == {"SUCCEEDED"}, fired
    assert {e["trigger"] for e in fired} == {"SCHEDULE"}
    calls = sorted(when for task_id, when in faulty.healthy_calls if task_id == healthy["id"])
    assert calls == [e["scheduled_at"] for e in fired]
    for e in fired:
        # Generous: a stalled engine would fall behind by whole timeouts per fire.
        assert at(e["started_at"]) - at(e["scheduled_at"]) < timedelta(seconds=10), e

    for name, task in faults.items():
        expected = FAULTS[name][2]
        ran = [e for e in executions(client, task["id"]) if e["status"] != "SKIPPED"]
        assert ran, name
        for e in ran:
            assert (e["status"], e["error_kind"]) == expected, (name, e)
            (attempt,) = e["attempts"]
            assert attempt["error_kind"] == expected[1], (name, attempt)
            if name == "big":
                assert attempt["http_status"] == 200
                assert len(attempt["response_excerpt"].encode()) <= 4096
            else:
                assert attempt["http_status"] is None and attempt["error_msg"], (name, attempt)
                assert "127.0.0.1" not in attempt["error_msg"]
    assert_healthy(server, mark)


# -- in-process: what the DNS and TLS failures are called -------------------------------------


class NoSuchHost(AbstractResolver):
    """The system resolver's answer for a name that does not exist."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    settings = load_settings(
        env={"APICRON_DATA_DIR": str(tmp_path), "APICRON_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    runtime = open_runtime(settings, announce_token=False)
    yield runtime.ctx
    runtime.ctx.store.close()


def a_task(ctx: Context, backend_url: str) -> StoredTask:
    app = apps.create_app(ctx, AppCreate(name=unique("app")))
    group = groups.create_group(ctx, GroupCreate(name=unique("grp"), app_id=app.id))
    api = apis.create_api(ctx, ApiCreate(
        group_id=group.id, name=unique("api"), method="GET", path=f"/{unique('p')}",
        backend_url=backend_url, backend_timeout_ms=5000,
    ))
    apis.publish_api(ctx, api.id)
    return tasks.create_task(ctx, TaskCreate.model_validate({
        "name": unique("task"), "app_id": app.id, "api_id": api.id,
        "trigger_type": "CRON", "cron_expression": "0 0 12 ? * 6#3",
    }))


async def call_once(ctx: Context, task: StoredTask, resolver: AbstractResolver | None) -> Any:
    session_cm = backend_session(resolver=resolver)
    session = await session_cm.__aenter__()
    try:
        caller = GatewayCaller(SnapshotCache(ctx), session, SystemClock())
        return await caller.call(task, "execution-1", datetime.now(UTC), 1)
    finally:
        await session_cm.__aexit__(None, None, None)


@pytest.mark.parametrize(
    ("kind", "resolver"),
    [("DNS", NoSuchHost()), ("TLS", None)],
)
def test_a_name_that_does_not_resolve_is_dns_and_a_failed_handshake_is_tls(
    ctx: Context, faulty: FaultyBackend, kind: str, resolver: AbstractResolver | None
) -> None:
    url = "http://no-such-host.invalid/x" if kind == "DNS" else faulty.url("ok", scheme="https")
    outcome = asyncio.run(call_once(ctx, a_task(ctx, url), resolver))
    assert (outcome.error_kind, outcome.http_status) == (kind, None), outcome
    assert outcome.error_msg
