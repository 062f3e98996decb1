"""Several apicron processes on one PostgreSQL database: every occurrence executed exactly
once, the load shared, a killed node's work resumed by the others, a database restart
survived, and configuration changes reaching every process.

Real processes (``apicron serve --role …``), a real PostgreSQL server, a real backend.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import World
from tests.pg_cluster import PostgresCluster
from tests.servers import ApicronProcess
from tests.test_gateway import Backend

pytestmark = pytest.mark.slow


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Cluster:
    """One management-API process and any number of other-role processes on one database."""

    def __init__(self, root: Path, url: str):
        self.root = root
        self.url = url
        self.env = {"APICRON_DATABASE_URL": url, "APICRON_SECRET_KEY": _SECRET_KEY}
        self.processes: list[ApicronProcess] = []
        self.api = self.add("api")

    def add(self, role: str) -> ApicronProcess:
        process = ApicronProcess(self.root / f"{role}-{len(self.processes)}", self.env, role)
        self.processes.append(process.start())
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as db:
            return db.execute(sql).fetchall()  # type: ignore[arg-type]


# Every process of one instance must share the key its app secrets are encrypted with.
_SECRET_KEY = "0eZ7ySDpF3aK0o6r4kB3Y7Q2lTqO8sT1vN5xW9cZ2aE="


@pytest.fixture
def cluster(postgres: PostgresCluster, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(tmp_path, postgres.create_database("multi"))
    yield made
    made.stop()


@pytest.fixture
def backend() -> Iterator[Backend]:
    made = Backend().start()
    yield made
    made.stop()


def start_tasks(
    world: World, backend: Backend, path: str, count: int, **fields: Any
) -> dict[str, datetime]:
    """``count`` started tasks firing every second; their first fire times by id."""
    app, api = world.setup(backend_url=backend.url(path), method="GET")
    tasks = [
        world.task(app, api, cron_expression="* * * * * ?", overlap_policy="ALLOW", **fields)
        for _ in range(count)
    ]

    def start(task: dict[str, Any]) -> tuple[str, datetime]:
        with httpx.Client(base_url=world.client.base_url,
                          headers=world.client.headers, timeout=30) as client:
            started = world.ok(client.post(f"/v1/tasks/{task['id']}/start"))
        return task["id"], parse(started["next_fire_time"])

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(start, tasks))


def stop_tasks(world: World, task_ids: list[str]) -> datetime:
    """Stop them all; returns when the first stop was asked."""
    asked = datetime.now(UTC)

    def stop(task_id: str) -> None:
        with httpx.Client(base_url=world.client.base_url,
                          headers=world.client.headers, timeout=30) as client:
            world.ok(client.post(f"/v1/tasks/{task_id}/stop"))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(stop, task_ids))
    return asked


def settle(cluster: Cluster, timeout: float = 60) -> None:
    def done() -> bool:
        (n,) = cluster.query(
            "SELECT count(*) FROM executions WHERE status IN ('PENDING', 'RUNNING')"
        )[0]
        return n == 0

    wait_for(done, timeout, "every execution to finish")


def check_exactly_once(
    cluster: Cluster, backend: Backend, path: str, first: dict[str, datetime],
    stopped_at: datetime,
) -> dict[str, int]:
    """Every occurrence from each task's first fire to the stop has exactly one execution,
    the backend got exactly one call per successful execution; returns calls per node."""
    rows = cluster.query(
        "SELECT task_id, scheduled_at, status FROM executions WHERE trigger = 'SCHEDULE'"
    )
    by_task: dict[str, list[datetime]] = {}
    statuses = Counter(status for _, _, status in rows)
    for task_id, at, _ in rows:
        by_task.setdefault(task_id, []).append(at)
    assert set(by_task) == set(first)
    missing = duplicates = 0
    for task_id, times in by_task.items():
        times.sort()
        duplicates += len(times) - len(set(times))
        assert times[0] == first[task_id], "the first occurrence after start did not run"
        span = int((times[-1] - times[0]).total_seconds()) + 1
        missing += span - len(set(times))
        # Occurrences due before the stop ran (the last second may lose to the stop).
        assert times[-1] >= stopped_at - timedelta(seconds=2), (task_id, times[-1])
    assert (missing, duplicates) == (0, 0)
    assert set(statuses) == {"SUCCEEDED"}, statuses
    calls = Counter(
        (r.header("X-Apicron-Task-Id")[0], r.header("X-Apicron-Scheduled-Time")[0])
        for r in backend.to(path)
    )
    assert max(calls.values()) == 1, "an occurrence reached the backend twice"
    assert len(calls) == len(rows)
    per_node = dict(cluster.query(
        "SELECT node_id, count(*) FROM attempts GROUP BY node_id"
    ))
    print(f"\n{len(rows)} executions of {len(first)} tasks; missing {missing}, "
          f"duplicates {duplicates}; attempts per node {per_node}")
    return per_node


def test_three_schedulers_500_tasks_every_second_for_a_minute(
    cluster: Cluster, backend: Backend
) -> None:
    nodes = [cluster.add("scheduler") for _ in range(3)]
    with cluster.api.client() as client:
        world = World(client)
        path = backend.path()
        first = start_tasks(world, backend, path, 500)
        time.sleep(60)
        stopped_at = stop_tasks(world, list(first))
    settle(cluster)
    per_node = check_exactly_once(cluster, backend, path, first, stopped_at)
    assert set(per_node) == {_node_id(n) for n in nodes}
    total = sum(per_node.values())
    assert min(per_node.values()) >= total / 10, f"load not shared: {per_node}"


def _node_id(process: ApicronProcess) -> str:
    """The node id a process announced in its log."""
    for line in process.log().splitlines():
        if "apicron node " in line and " listening " in line:
            return line.split("apicron node ", 1)[1].split(" ", 1)[0]
    raise AssertionError("the process did not announce its node id")
