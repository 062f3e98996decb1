"""The gateway pipeline in-process: routing, the guarded resolver, the snapshot cache, the
buffered call the scheduler uses, metrics and the access log.

Pure parts are called directly; the rest runs a real ``Gateway`` listener on loopback over
a real SQLite store, in the test's own event loop, against the recording backend.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict

from apicron.domain.errors import ConfigurationError
from apicron.domain.models import (
    ApiCreate,
    AppCreate,
    AppWithSecret,
    GrantCreate,
    GroupCreate,
    InstanceParamsUpdate,
    InstanceUpdate,
    PublishedApi,
)
from apicron.gateway import (
    Gateway,
    GatewayError,
    authorize,
    authorize_latest,
    backend_session,
    build_snapshot,
    call_backend,
)
from apicron.gateway.addresses import ForbiddenAddress, GuardedResolver, is_forbidden
from apicron.gateway.auth import Authorized, host_name
from apicron.gateway.metrics import REGISTRY
from apicron.gateway.proxy import backend_url, forwarded_headers, returned_headers
from apicron.gateway.routing import RouteTable, decode_request_path
from apicron.server import Runtime, open_runtime
from apicron.services import apis, apps, grants, groups, instance
from apicron.services.context import Context
from apicron.settings import load_settings
from tests.test_gateway import Backend

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def published(path: str, method: str = "GET", **fields: Any) -> PublishedApi:
    values: dict[str, Any] = {
        "id": f"id{path}{method}",
        "group_id": "g",
        "app_id": "owner",
        "name": f"api{len(path)}",
        "method": method,
        "path": path,
        "auth_type": "NONE",
        "backend_url": "http://127.0.0.1:9/x",
        "backend_timeout_ms": 1000,
        "published_at": NOW,
        **fields,
    }
    return PublishedApi(**values)


# -- routing ------------------------------------------------------------------------------


class TestRouteTable:
    def served(self, table: RouteTable, method: str, raw_path: str) -> tuple[str, dict[str, str]]:
        match = table.match(method, decode_request_path(raw_path))
        assert match is not None, raw_path
        return match.api.path, match.path_params

    def test_exact_segments_beat_parameters_and_failures_backtrack(self) -> None:
        table = RouteTable(
            published(p)
            for p in ("/o/{id}", "/o/latest", "/{a}/c/d", "/b/{x}/e", "/o/{id}/lines/{n}")
        )
        assert self.served(table, "GET", "/o/latest") == ("/o/latest", {})
        assert self.served(table, "GET", "/o/7") == ("/o/{id}", {"id": "7"})
        assert self.served(table, "GET", "/b/c/e") == ("/b/{x}/e", {"x": "c"})
        assert self.served(table, "GET", "/b/c/d") == ("/{a}/c/d", {"a": "b"})
        assert self.served(table, "GET", "/o/latest/lines/2") == (
            "/o/{id}/lines/{n}", {"id": "latest", "n": "2"}
        )

    def test_the_method_is_part_of_the_route(self) -> None:
        table = RouteTable([published("/o/{id}", "GET"), published("/o/{ref}", "POST")])
        assert self.served(table, "POST", "/o/1") == ("/o/{ref}", {"ref": "1"})
        assert table.match("DELETE", decode_request_path("/o/1")) is None
        assert table.match("get", decode_request_path("/o/1")) is None

    def test_parameters_are_percent_decoded_one_segment_each(self) -> None:
        table = RouteTable([published("/f/{name}"), published("/a%20b/x")])
        assert self.served(table, "GET", "/f/a%2Fb%20%C3%BC") == ("/f/{name}", {"name": "a/b ü"})
        assert self.served(table, "GET", "/a%20b/x") == ("/a%20b/x", {})
        assert self.served(table, "GET", "/a b/x/") == ("/a%20b/x", {})
        assert table.match("GET", decode_request_path("/f/a/b")) is None

    def test_empty_and_dot_segments_match_no_parameter(self) -> None:
        table = RouteTable([published("/f/{name}"), published("/")])
        for path in ("/f//", "/f/.", "/f/..", "/f/%2e%2e"):
            assert table.match("GET", decode_request_path(path)) is None, path
        assert self.served(table, "GET", "/") == ("/", {})

    def test_bytes_that_are_not_utf8_survive_the_round_trip(self) -> None:
        api = published("/f/{name}", backend_url="http://127.0.0.1:9/g/{name}")
        match = RouteTable([api]).match("GET", decode_request_path("/f/%FF%FE"))
        assert match is not None
        assert str(backend_url(api, match.path_params, "")) == "http://127.0.0.1:9/g/%FF%FE"


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("Grp.Apicron.Internal:8081", "grp.apicron.internal"),
        ("example.com.", "example.com"),
        ("[::1]:8081", "[::1]"),
        ("127.0.0.1", "127.0.0.1"),
        ("", ""),
    ],
)
def test_host_names_lose_port_case_and_trailing_dot(host: str, name: str) -> None:
    assert host_name(host) == name


class TestBackendRequest:
    def test_the_url_fills_placeholders_and_appends_the_query_unchanged(self) -> None:
        api = published("/o/{id}/{n}", backend_url="https://bäck.example:8443/v1/{n}/x/{id}?k=1")
        url = backend_url(api, {"id": "a b/ü", "n": "~1"}, "q=%20&q=+&r")
        assert str(url) == (
            "https://xn--bck-qla.example:8443/v1/~1/x/a%20b%2F%C3%BC?k=1&q=%20&q=+&r"
        )
        assert str(backend_url(published("/o"), {}, "")) == "http://127.0.0.1:9/x"

    def test_credentials_hop_by_hop_and_framing_headers_are_dropped(self) -> None:
        given = CIMultiDict(
            [
                ("Host", "gw"), ("Content-Length", "3"), ("Authorization", "SDK-HMAC-SHA256 x"),
                ("X-Sdk-Date", "20260101T000000Z"), ("X-HW-ID", "k"), ("x-hw-appkey", "s"),
                ("Connection", "close, X-Private"), ("X-Private", "1"), ("Proxy-Foo", "1"),
                ("Upgrade", "h2c"), ("Trailer", "x"), ("TE", "trailers"), ("Keep-Alive", "5"),
                ("Transfer-Encoding", "chunked"), ("X-Forwarded-For", "10.0.0.1"),
                ("X-Forwarded-For", "10.0.0.2"), ("X-Forwarded-Proto", "https"),
                ("Accept", "a"), ("Accept", "b"), ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"),
            ]
        )
        sent = forwarded_headers(given, signed=True, client_ip="192.0.2.1", scheme="http")
        assert list(sent.items()) == [
            ("Accept", "a"), ("Accept", "b"), ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"),
            ("X-Forwarded-For", "10.0.0.1, 10.0.0.2, 192.0.2.1"), ("X-Forwarded-Proto", "http"),
        ]
        unsigned = forwarded_headers(given, signed=False, client_ip="", scheme="https")
        assert unsigned.getall("X-Sdk-Date") == ["20260101T000000Z"]
        assert unsigned["X-Forwarded-For"] == "10.0.0.1, 10.0.0.2"

    def test_the_answer_keeps_repeated_headers_minus_hop_by_hop(self) -> None:
        answer = CIMultiDict(
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Connection", "x-a"), ("X-A", "1"),
             ("Transfer-Encoding", "chunked"), ("Content-Length", "5")]
        )
        assert list(returned_headers(answer).items()) == [
            ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Length", "5"),
        ]


# -- the guarded resolver -----------------------------------------------------------------------


class FakeDns(AbstractResolver):
    """Stands in for the system's DNS, which tests cannot point at 169.254.x.x."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.table:
            raise OSError(f"no such host {host}")
        return [
            ResolveResult(
                hostname=host, host=address, port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET, proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("169.254.169.254", True), ("169.254.0.1", True), ("fe80::1", True),
        ("fe80::1%eth0", True), ("fd00:ec2::254", True), ("::ffff:169.254.169.254", True),
        ("127.0.0.1", False), ("10.0.0.1", False), ("::1", False), ("fd00:ec2::253", False),
        ("not-an-address", False),
    ],
)
def test_refused_addresses(address: str, refused: bool) -> None:
    assert is_forbidden(address) is refused


def test_the_resolver_drops_refused_addresses_and_refuses_when_none_is_left() -> None:
    async def main() -> None:
        resolver = GuardedResolver(FakeDns({
            "metadata.test": ["169.254.169.254", "fe80::1"],
            "mixed.test": ["169.254.169.254", "127.0.0.1"],
        }))
        with pytest.raises(ForbiddenAddress, match=r"169\.254\.169\.254"):
            await resolver.resolve("metadata.test", 80)
        answers = await resolver.resolve("mixed.test", 80)
        assert [a["host"] for a in answers] == ["127.0.0.1"]
        await resolver.close()

    asyncio.run(main())


# -- in-process gateway ---------------------------------------------------------------------


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        env={"APICRON_DATA_DIR": str(tmp_path), "APICRON_ADMIN_TOKEN": "t" * 32}
    )
    opened = open_runtime(settings, announce_token=False)
    yield opened
    opened.ctx.store.close()


@dataclass
class Built:
    owner: AppWithSecret
    api: PublishedApi


def build(ctx: Context, name: str, backend_url: str, **fields: Any) -> Built:
    owner = apps.create_app(ctx, AppCreate(name=f"{name}-app"))
    group = groups.create_group(ctx, GroupCreate(name=f"{name}-grp", app_id=owner.id))
    api = apis.create_api(
        ctx,
        ApiCreate(group_id=group.id, name=name, method=fields.pop("method", "POST"),
                  path=fields.pop("path", f"/{name}/{{id}}"), backend_url=backend_url, **fields),
    )
    apis.publish_api(ctx, api.id)
    with ctx.store.read() as q:
        snapshot = q.get_published_api(api.id)
    assert snapshot is not None
    return Built(owner, snapshot)


@asynccontextmanager
async def listening(
    ctx: Context, resolver: AbstractResolver | None = None, outbound: Any = None
) -> AsyncIterator[tuple[Gateway, aiohttp.ClientSession]]:
    gateway = Gateway(ctx, resolver=resolver, **({"outbound": outbound} if outbound else {}))
    await gateway.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{gateway.port}") as client:
            yield gateway, client
    finally:
        await gateway.close()


def hw(app: AppWithSecret) -> dict[str, str]:
    return {"X-HW-ID": app.key, "X-HW-AppKey": app.secret}


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class TestInProcess:
    def test_calls_are_counted_timed_and_logged_without_credentials(
        self, runtime: Runtime, backend: Backend, caplog: pytest.LogCaptureFixture
    ) -> None:
        ctx = runtime.ctx
        built = build(ctx, "metered", backend.url("/m/{id}"))
        labels = {"app_id": built.owner.id, "api_id": built.api.id, "status_class": "2xx"}
        before = sample("apicron_gateway_calls_total", labels)
        refused = {"app_id": "", "api_id": built.api.id, "status_class": "4xx"}
        refused_before = sample("apicron_gateway_calls_total", refused)
        timed = {"app_id": built.owner.id, "api_id": built.api.id}
        timed_before = sample("apicron_gateway_call_duration_seconds_count", timed)

        async def main() -> None:
            async with listening(ctx) as (_, client):
                for _ in range(3):
                    async with client.post("/metered/1?secret=q", headers=hw(built.owner)) as r:
                        assert r.status == 200
                async with client.post("/metered/1", headers={"X-HW-ID": built.owner.key,
                                                              "X-HW-AppKey": "bad"}) as r:
                    assert r.status == 401

        with caplog.at_level(logging.INFO, logger="apicron.gateway.access"):
            asyncio.run(main())
        assert sample("apicron_gateway_calls_total", labels) == before + 3
        assert sample("apicron_gateway_calls_total", refused) == refused_before + 1
        assert sample("apicron_gateway_call_duration_seconds_count", timed) == timed_before + 3
        lines = [r.getMessage() for r in caplog.records if r.name == "apicron.gateway.access"]
        assert len(lines) == 4
        assert lines[0].startswith("POST /metered/1 200 ")
        assert f"app={built.owner.id} api={built.api.id}" in lines[0]
        assert lines[3].startswith("POST /metered/1 401 ") and "app=-" in lines[3]
        for record in caplog.records:
            assert built.owner.secret not in record.getMessage()
            assert "secret=q" not in record.getMessage()

    def test_apis_of_the_same_name_in_two_groups_are_counted_apart(
        self, runtime: Runtime, backend: Backend
    ) -> None:
        ctx = runtime.ctx
        first = build(ctx, "twin", backend.url("/t1/{id}"), path="/twin-one/{id}")
        other_group = groups.create_group(
            ctx, GroupCreate(name="twin-other-grp", app_id=first.owner.id))
        second = apis.create_api(ctx, ApiCreate(
            group_id=other_group.id, name="twin", method="POST", path="/twin-two/{id}",
            backend_url=backend.url("/t2/{id}")))
        apis.publish_api(ctx, second.id)
        assert first.api.name == second.name and first.api.id != second.id

        def calls(api_id: str) -> float:
            return sample("apicron_gateway_calls_total",
                          {"app_id": first.owner.id, "api_id": api_id, "status_class": "2xx"})

        before = (calls(first.api.id), calls(second.id))

        async def main() -> None:
            async with listening(ctx) as (_, client):
                for path, times in (("/twin-one/1", 1), ("/twin-two/1", 2)):
                    for _ in range(times):
                        async with client.post(path, headers=hw(first.owner)) as r:
                            assert r.status == 200

        asyncio.run(main())
        assert (calls(first.api.id), calls(second.id)) == (before[0] + 1, before[1] + 2)

    def test_a_change_is_served_on_the_next_request(
        self, runtime: Runtime, backend: Backend
    ) -> None:
        ctx = runtime.ctx
        built = build(ctx, "changing", backend.url("/c/{id}"))
        caller = apps.create_app(ctx, AppCreate(name="late-caller"))  # no version bump

        async def main() -> None:
            async with listening(ctx) as (gateway, client):
                async with client.post("/changing/1", headers=hw(caller)) as r:
                    assert r.status == 403  # found by learn_key, not "unknown key"
                granted = grants.create_grants(
                    ctx, GrantCreate(app_id=caller.id, api_ids=[built.api.id])
                )
                async with client.post("/changing/1", headers=hw(caller)) as r:
                    assert r.status == 200
                grants.delete_grant(ctx, granted.items[0].id)
                async with client.post("/changing/1", headers=hw(caller)) as r:
                    assert r.status == 403
                instance.update_instance(
                    ctx, InstanceUpdate(params=InstanceParamsUpdate(app_secret=False))
                )
                async with client.post("/changing/1", headers=hw(built.owner)) as r:
                    assert r.status == 401
                assert (await gateway.cache.current()).version == ctx.changes.version

        asyncio.run(main())

    def test_unknown_keys_are_looked_up_once_per_change(self, runtime: Runtime) -> None:
        ctx = runtime.ctx
        build(ctx, "lookups", "http://127.0.0.1:9/x")

        async def main() -> None:
            async with listening(ctx) as (gateway, _):
                snapshot = await gateway.cache.current()
                assert await gateway.cache.learn_key("nobody") is None
                assert await gateway.cache.learn_key("nobody") is None
                newcomer = apps.create_app(ctx, AppCreate(name="newcomer"))
                fresher = await gateway.cache.learn_key(newcomer.key)
                assert fresher is not None and fresher is not snapshot
                assert fresher.apps_by_key[newcomer.key].app_id == newcomer.id

        asyncio.run(main())

    def test_the_buffered_call_reads_at_most_the_limit(
        self, runtime: Runtime, backend: Backend
    ) -> None:
        ctx = runtime.ctx
        built = build(ctx, "buffered", backend.url("/big/{id}"))

        async def main() -> None:
            cache_snapshot = build_snapshot(ctx, ctx.changes.version)
            authorized = authorize(
                cache_snapshot, method="POST", host="127.0.0.1", raw_path="/buffered/9",
                query_string="a=1", headers=hw(built.owner), body=b"{}", now=datetime.now(UTC),
            )
            assert authorized == Authorized(built.api, {"id": "9"}, built.owner.id, "APP_SECRET")
            async with backend_session() as session:
                answer = await call_backend(
                    session, authorized, query_string="a=1", headers=hw(built.owner),
                    body=b"{}", client_ip="127.0.0.1", scheme="http", max_body_bytes=4096,
                )
                whole = await call_backend(
                    session, authorized, query_string="", headers={}, body=b"",
                    client_ip="127.0.0.1", scheme="http",
                )
            assert answer.status == 200 and answer.truncated
            assert answer.body == bytes(4096)
            assert len(whole.body) == 48 * 65536 and not whole.truncated
            seen = backend.to("/big/9")[0]
            assert seen.target == "/big/9?a=1" and seen.body == b"{}"
            assert "x-hw-appkey" not in seen.names()

        asyncio.run(main())

    def test_the_buffered_call_times_out_over_the_whole_answer(
        self, runtime: Runtime, backend: Backend
    ) -> None:
        ctx = runtime.ctx
        built = build(ctx, "slowly", backend.url("/slow/2000/{id}"), auth_type="NONE",
                      backend_timeout_ms=200)

        async def main() -> None:
            snapshot = build_snapshot(ctx, ctx.changes.version)
            authorized = authorize(
                snapshot, method="POST", host="h", raw_path="/slowly/1", query_string="",
                headers={}, body=b"", now=datetime.now(UTC),
            )
            async with backend_session() as session:
                with pytest.raises(GatewayError) as caught:
                    await call_backend(session, authorized, query_string="", headers={},
                                       body=b"", client_ip="", scheme="http")
            assert caught.value.status == 504 and caught.value.code == "BACKEND_TIMEOUT"
            assert built.api.name in caught.value.message

        asyncio.run(main())

    def test_a_name_resolving_to_a_metadata_address_is_refused_through_a_real_session(
        self, runtime: Runtime, backend: Backend
    ) -> None:
        ctx = runtime.ctx
        dns = FakeDns({"metadata.test": ["169.254.169.254"], "backend.test": ["127.0.0.1"]})
        build(ctx, "metadata", "http://metadata.test:80/latest/{id}", auth_type="NONE")
        marker = backend.path()
        build(ctx, "resolved", f"http://backend.test:{backend.port}{marker}/{{id}}",
              auth_type="NONE")

        async def main() -> None:
            async with listening(ctx, resolver=dns) as (_, client):
                async with client.post("/metadata/1") as r:
                    assert r.status == 502
                    assert (await r.json())["error_code"] == "BACKEND_FORBIDDEN"
                async with client.post("/resolved/1") as r:
                    assert r.status == 200

        asyncio.run(main())
        assert backend.one(marker).header("Host") == [f"backend.test:{backend.port}"]

    def test_authorize_latest_retries_with_a_fresher_snapshot(self, runtime: Runtime) -> None:
        ctx = runtime.ctx
        built = build(ctx, "latest", "http://127.0.0.1:9/x")

        async def main() -> None:
            async with listening(ctx) as (gateway, _):
                await gateway.cache.current()
                newcomer = apps.create_app(ctx, AppCreate(name="newcomer2"))
                with pytest.raises(GatewayError) as caught:
                    await authorize_latest(
                        gateway.cache, method="POST", host="h", raw_path="/latest/1",
                        query_string="", headers=hw(newcomer), body=b"", now=datetime.now(UTC),
                    )
                assert caught.value.status == 403
                owner = await authorize_latest(
                    gateway.cache, method="POST", host="h", raw_path="/latest/1",
                    query_string="", headers=hw(built.owner), body=b"", now=datetime.now(UTC),
                )
                assert owner.app_id == built.owner.id

        asyncio.run(main())

    def test_a_port_in_use_fails_with_one_clear_line(self, runtime: Runtime) -> None:
        async def main() -> None:
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                gateway = Gateway(runtime.ctx)
                with pytest.raises(ConfigurationError, match=r"gateway cannot listen on 127\."):
                    await gateway.start("127.0.0.1", taken.getsockname()[1])

        asyncio.run(main())
