"""Liveness, readiness and metrics on every role (issue 13 §1): real processes.

``/livez`` says whether the process and its engine loop live, ``/readyz`` whether its
database answers, is migrated and takes writes; scheduler- and gateway-only nodes serve
both, and ``/metrics``, on the ops port. Health never says ok while writes fail or the
engine is dead.
"""

from __future__ import annotations

import contextlib
import resource
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import World
from tests.servers import ApicronProcess, free_port


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def test_an_all_in_one_node_is_live_and_ready_and_says_its_engine_runs(
    server: ApicronProcess,
) -> None:
    live = get(f"{server.url}/livez")
    assert live.status_code == 200
    assert live.json()["engine"]["state"] == "running"
    ready = get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "schema": "ok", "writes": "ok"}
    health = get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["engine"]["state"] == "running"


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, ApicronProcess]]:
    """A scheduler and a gateway sharing the SQLite file of an API node, each with an ops
    port."""
    data = tmp_path / "data"
    api = ApicronProcess(data, role="api").start()
    started = {"api": api}
    try:
        for role in ("scheduler", "gateway"):
            process = ApicronProcess(data, {"APICRON_OPS_PORT": str(free_port())}, role=role)
            process.log_path = tmp_path / f"{role}.log"
            started[role] = process.start()
        yield started
    finally:
        for process in started.values():
            process.stop()


def ops(process: ApicronProcess) -> str:
    return f"http://127.0.0.1:{process.env['APICRON_OPS_PORT']}"


def test_scheduler_and_gateway_nodes_answer_probes_and_metrics_on_the_ops_port(
    nodes: dict[str, ApicronProcess],
) -> None:
    scheduler, gateway = ops(nodes["scheduler"]), ops(nodes["gateway"])
    assert get(f"{scheduler}/livez").json()["engine"]["state"] == "running"
    assert get(f"{gateway}/livez").json()["engine"]["state"] == "off"
    for url in (scheduler, gateway):
        assert get(f"{url}/livez").status_code == 200
        assert get(f"{url}/readyz").status_code == 200
        assert get(f"{url}/healthz").status_code == 200
    # Engine metrics only where an engine runs; gateway metrics only where it listens.
    wait_for(lambda: "apicron_engine_last_pass_timestamp_seconds " in get(
        f"{scheduler}/metrics").text, 10, "the scheduler's first pass")
    scheduled = get(f"{scheduler}/metrics").text
    served = get(f"{gateway}/metrics").text
    assert "apicron_build_info{" in scheduled and "apicron_build_info{" in served
    assert "apicron_fires" in scheduled and "apicron_gateway_calls" not in scheduled
    assert "apicron_gateway_calls_in_flight" in served and "apicron_fires" not in served
    assert "_created" not in scheduled + served
    with nodes["api"].client() as admin:
        management = admin.get("/metrics").text
    assert "apicron_fires" not in management and "apicron_gateway" not in management


def test_the_ops_port_is_off_unless_set(server: ApicronProcess) -> None:
    assert "ops http" not in server.log()


def test_an_engine_that_cannot_go_on_fails_livez_then_exits_non_zero_with_one_line(
    tmp_path: Path,
) -> None:
    """A schema broken under a running node (its executions table dropped): not an outage
    to wait out. /livez turns 503 once passes have failed for half the give-up time, then
    the process exits 1 with one CRITICAL line, for its supervisor to restart it."""
    node = ApicronProcess(tmp_path / "data", {"APICRON_ENGINE_GIVE_UP": "10"}).start()
    try:
        with node.client() as admin:
            world = World(admin)
            app, api = world.setup()
            task = world.task(app, api, cron_expression="* * * * * ?")
            world.ok(admin.post(f"/v1/tasks/{task['id']}/start"))
        database = sqlite3.connect(tmp_path / "data" / "apicron.db")
        database.execute("DROP TABLE attempts")
        database.execute("DROP TABLE executions")
        database.commit()
        database.close()
        assert node.process is not None
        seen: list[int] = []

        def livez_failed() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                seen.append(get(f"{node.url}/livez").status_code)
            return 503 in seen or node.process is None or node.process.poll() is not None

        wait_for(livez_failed, 30, "/livez to fail")
        assert 503 in seen
        assert node.process.wait(30) == 1
    finally:
        node.stop()
    log = node.log()
    assert log.count("CRITICAL") == 1
    assert "engine giving up" in log and "no such table" in log


def test_writes_failing_make_readyz_503_and_are_said_once(tmp_path: Path) -> None:
    """The database file's disk is full (here: the process may not grow any file past a
    limit, which fails SQLite's writes the same way): reads still work, so a probe that
    only reads would say ok. /readyz says writes are failing; the engine loop lives on
    (it waits the outage out, keeping its results)."""
    data = tmp_path / "data"
    node = ApicronProcess(data).start()
    with node.client() as admin:
        world = World(admin)
        app, api = world.setup()
        task = world.task(app, api, cron_expression="* * * * * ?")
    node.stop()
    limit = (data / "apicron.db").stat().st_size + 64 * 1024

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    node = ApicronProcess(data, preexec=small_disk)
    node.log_path = tmp_path / "full.log"
    node.start()
    try:
        with node.client() as admin:
            admin.post(f"/v1/tasks/{task['id']}/start")
        wait_for(lambda: get(f"{node.url}/readyz").status_code == 503, 30, "/readyz to fail")
        ready = get(f"{node.url}/readyz").json()
        assert ready["database"] == "ok"
        assert ready["writes"].startswith("failing: ")
        assert get(f"{node.url}/livez").status_code == 200
        assert get(f"{node.url}/healthz").status_code == 503
        time.sleep(3)
    finally:
        node.stop()
    assert node.log().count("database unreachable") == 1
