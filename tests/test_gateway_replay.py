"""Captured signed requests: refused when replayed (instance parameter ``replay_guard``,
shared by every gateway of an instance), usable for a shorter time ahead of the clock, and
``UNSIGNED-PAYLOAD`` refused when the instance says so (``unsigned_payload``). Real
``apicron serve`` processes, real backends on loopback, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from apicron.signing import sign_request
from tests.conftest import World
from tests.pg_cluster import PostgresCluster
from tests.servers import SECRET_KEY, ApicronProcess
from tests.test_gateway import Backend, error, gateway, path_of, setup


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def signed(
    gw: httpx.Client, target: str, app: dict[str, Any], body: bytes = b"{}", **options: Any
) -> dict[str, str]:
    url = f"{gw.base_url}".rstrip("/") + target
    return sign_request("POST", url, options.pop("headers", {}), body, key=app["key"],
                        secret=app["secret"], **options)


def test_a_replayed_signed_request_is_refused_while_the_replay_guard_is_on(
    fresh_server: ApicronProcess, backend: Backend
) -> None:
    with fresh_server.client() as client, gateway(fresh_server) as gw:
        world = World(client)
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        target = path_of(api, id="1")
        captured = signed(gw, target, app)
        # Off (the default): a captured request can be sent again.
        for _ in range(2):
            assert gw.post(target, headers=captured, content=b"{}").status_code == 200

        params = world.ok(client.put("/v1/instance", json={"params": {"replay_guard": True}}))
        assert params["params"]["replay_guard"] is True
        fresh = signed(gw, target, app, headers={"X-Request-Id": "1"})
        assert gw.post(target, headers=fresh, content=b"{}").status_code == 200
        for _ in range(3):
            message = error(gw.post(target, headers=fresh, content=b"{}"), 401, "UNAUTHORIZED")
            assert "already" in message and "X-Request-Id" in message
        assert len(backend.to(marker)) == 3
        # A request signed anew passes; so do calls by app secret, which carry no signature.
        again = signed(gw, target, app, headers={"X-Request-Id": "2"})
        assert gw.post(target, headers=again, content=b"{}").status_code == 200
        hw = {"X-HW-ID": app["key"], "X-HW-AppKey": app["secret"]}
        assert gw.post(target, headers=hw).status_code == 200
        assert gw.post(target, headers=hw).status_code == 200


def test_gateways_sharing_a_postgresql_database_share_the_replay_guard(
    postgres: PostgresCluster, tmp_path: Path, backend: Backend
) -> None:
    env = {"APICRON_DATABASE_URL": postgres.create_database(), "APICRON_SECRET_KEY": SECRET_KEY}
    first = ApicronProcess(tmp_path / "a", env).start()
    second = ApicronProcess(tmp_path / "b", env, role="gateway").start()
    try:
        with first.client() as client, gateway(first) as gw1, gateway(second) as gw2:
            world = World(client)
            world.ok(client.put("/v1/instance", json={"params": {"replay_guard": True}}))
            marker = backend.path()
            app, api = setup(world, backend_url=backend.url(marker))
            target = path_of(api, id="1")
            # The Host is signed: send the same one to both gateways.
            headers = signed(gw1, target, app, headers={"Host": "gw.example"})
            assert gw1.post(target, headers=headers, content=b"{}").status_code == 200
            error(gw2.post(target, headers=headers, content=b"{}"), 401, "UNAUTHORIZED")
            assert len(backend.to(marker)) == 1
    finally:
        second.stop()
        first.stop()


@pytest.mark.parametrize(("minutes", "status"), [(6, 401), (4, 200), (-14, 200)])
def test_a_request_dated_more_than_5_minutes_ahead_is_refused(
    server: ApicronProcess, world: World, backend: Backend, minutes: int, status: int
) -> None:
    """15 minutes behind, but only 5 ahead: a request dated in the future would otherwise
    stay usable for up to 30 minutes."""
    app, api = setup(world, backend_url=backend.url(backend.path()))
    target = path_of(api, id="1")
    with gateway(server) as gw:
        when = datetime.now(UTC) + timedelta(minutes=minutes)
        r = gw.post(target, headers=signed(gw, target, app, sdk_date=when), content=b"{}")
    assert r.status_code == status, r.text
    if status == 401:
        assert "ahead of the gateway clock (limit 5 minutes)" in r.json()["error_msg"]


def test_unsigned_payload_is_refused_while_the_instance_says_so(
    fresh_server: ApicronProcess, backend: Backend
) -> None:
    with fresh_server.client() as client, gateway(fresh_server) as gw:
        world = World(client)
        app, api = setup(world, backend_url=backend.url(backend.path()))
        target = path_of(api, id="1")
        unsigned = {"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}
        headers = signed(gw, target, app, b"signed body", headers=unsigned)
        assert gw.post(target, headers=headers, content=b"swapped body").status_code == 200

        world.ok(client.put("/v1/instance", json={"params": {"unsigned_payload": False}}))
        headers = signed(gw, target, app, b"signed body", headers=unsigned)
        message = error(gw.post(target, headers=headers, content=b"swapped body"), 401,
                        "UNAUTHORIZED")
        assert "UNSIGNED-PAYLOAD is not accepted" in message and "unsigned_payload" in message
        assert gw.post(target, headers=signed(gw, target, app), content=b"{}").status_code == 200
