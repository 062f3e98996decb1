from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pg_cluster import PostgresCluster
from tests.servers import SECRET_KEY, ApicronProcess
from tests.suite_order import longest_first

_names = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, so the last minutes do not leave a worker idle."""
    longest_first(items)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names):05d}"


class World:
    """Builds apps, groups, APIs, grants and tasks through the real REST API."""

    def __init__(self, client: httpx.Client):
        self.client = client

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return None if status == 204 else response.json()

    def app(self, **fields: Any) -> dict[str, Any]:
        body = {"name": unique("app"), **fields}
        return self.ok(self.client.post("/v1/apps", json=body), 201)  # type: ignore[no-any-return]

    def group(self, app: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"name": unique("grp"), "app_id": app["id"], **fields}
        return self.ok(self.client.post("/v1/api-groups", json=body), 201)  # type: ignore[no-any-return]

    def api(
        self,
        group: dict[str, Any],
        *,
        publish: bool = True,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "group_id": group["id"],
            "name": unique("api"),
            "method": "POST",
            "path": f"/{unique('p')}/orders",
            "auth_type": "APP",
            "backend_url": "http://127.0.0.1:9/orders",
            **fields,
        }
        api = self.ok(self.client.post("/v1/apis", json=body), 201)
        if publish:
            api = self.ok(self.client.post(f"/v1/apis/{api['id']}/publish"))
        return api  # type: ignore[no-any-return]

    def grant(self, app: dict[str, Any], api: dict[str, Any]) -> dict[str, Any]:
        body = {"app_id": app["id"], "api_ids": [api["id"]]}
        return self.ok(self.client.post("/v1/app-auths", json=body), 201)["items"][0]  # type: ignore[no-any-return]

    def setup(self, **api_fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """An app and a published API it owns."""
        app = self.app()
        return app, self.api(self.group(app), **api_fields)

    def task_body(self, app: dict[str, Any], api: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {
            "name": unique("task"),
            "app_id": app["id"],
            "api_id": api["id"],
            "trigger_type": "CRON",
            "cron_expression": "0 0 12 ? * 6#3",
            **fields,
        }

    def task(self, app: dict[str, Any], api: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = self.task_body(app, api, **fields)
        return self.ok(self.client.post("/v1/tasks", json=body), 201)  # type: ignore[no-any-return]

    def snapshot(self) -> Any:
        """Everything a rule test must leave unchanged when it refuses a request.

        Without what the engine changes by itself meanwhile: each task's ``last_execution``
        and ``next_fire_time`` (a run another test of the file started may end between the
        two snapshots: the clean-clone run of 2026-12-01 saw a manual run go from RUNNING
        to FAILED in between)."""
        found = {
            path: self.ok(self.client.get(path, params={"limit": 500}))
            for path in ("/v1/apps", "/v1/api-groups", "/v1/apis", "/v1/app-auths", "/v1/tasks")
        } | {"/v1/instance": self.ok(self.client.get("/v1/instance"))}
        for task in found["/v1/tasks"]["items"]:
            task.pop("last_execution", None)
            task.pop("next_fire_time", None)
        return found


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL server for the whole run; each user gets a new database."""
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """The kind of database the store, engine and API tests run on: each runs on both."""
    return str(request.param)


def new_database(request: pytest.FixtureRequest, kind: str) -> dict[str, str]:
    """The environment pointing a new apicron process at a new empty database of ``kind``
    (SQLite: the file in its data directory)."""
    if kind == "sqlite":
        return {}
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return {"APICRON_DATABASE_URL": cluster.create_database(), "APICRON_SECRET_KEY": SECRET_KEY}


@pytest.fixture
def database_url(request: pytest.FixtureRequest, database: str) -> str | None:
    """A new empty database of the kind under test (``None``: the SQLite default)."""
    return new_database(request, database).get("APICRON_DATABASE_URL")


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApicronProcess]:
    env = new_database(request, database)
    process = ApicronProcess(tmp_path_factory.mktemp(f"apicron-{database}"), env).start()
    yield process
    process.stop()


@pytest.fixture
def fresh_server(
    request: pytest.FixtureRequest, database: str, tmp_path: Path
) -> Iterator[ApicronProcess]:
    """A server of its own, for tests that change instance-wide state."""
    process = ApicronProcess(tmp_path / "data", new_database(request, database)).start()
    yield process
    process.stop()


@pytest.fixture
def client(server: ApicronProcess) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def world(client: httpx.Client) -> World:
    return World(client)
