"""The gateway through a real ``apicron serve`` and real backends on loopback.

Also home of :class:`Backend`, the recording backend the other gateway tests use.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from aiohttp import web

from apicron.signing import canonical_request, sign_request, string_to_sign
from tests.conftest import World, unique
from tests.reliability_helpers import raw_http
from tests.servers import ApicronProcess, free_port
from tests.threaded_server import ThreadedServer

MIB = 1024 * 1024


# -- a backend that records what it receives --------------------------------------------


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    """The request target as it arrived: path and query, percent-encoding intact."""
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def names(self) -> set[str]:
        return {key.lower() for key, _ in self.headers}


REPLY_BODY = b"created \x00\xff binary"


class Backend(ThreadedServer):
    """An aiohttp server on 127.0.0.1 in a thread (and event loop) of its own.

    The first path segment picks the behaviour: ``/slow/<ms>/…`` answers after a delay,
    ``/status/<code>/…`` answers that status without a body, ``/cut/<length>/…`` drops
    the connection in the middle of its body, ``/stall/<ms>/…`` pauses in the middle of it,
    ``/reply/…`` answers 201 with chosen headers and a binary body, ``/gzip/…`` a gzip
    body, ``/big/…`` 3 MiB streamed in chunks; anything else 200 with a small JSON body.
    """

    # A gzip body is recorded as it came.
    SERVER_OPTIONS: ClassVar[dict[str, Any]] = {"auto_decompress": False}

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def path(self) -> str:
        """A backend path no other test uses, to find its requests with :meth:`to`."""
        return f"/{unique('b')}"

    def to(self, marker: str) -> list[Received]:
        return [r for r in self.received if marker in r.target.partition("?")[0]]

    def one(self, marker: str) -> Received:
        found = self.to(marker)
        assert len(found) == 1, found
        return found[0]

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.content.read()  # no size limit, unlike request.read()
        self.received.append(
            Received(request.method, request.raw_path, list(request.headers.items()), body)
        )
        segments = request.raw_path.split("?")[0].split("/")
        kind = segments[1] if len(segments) > 1 else ""
        if kind == "slow":
            await asyncio.sleep(int(segments[2]) / 1000)
        if kind == "reply":
            response = web.Response(status=201, body=REPLY_BODY)
            response.headers.add("X-Backend-Id", "b-1")
            response.headers.add("Set-Cookie", "a=1; Path=/")
            response.headers.add("Set-Cookie", "b=2; Path=/")
            response.headers.add("Keep-Alive", "timeout=5")
            response.headers.add("X-Hop", "drop me")
            response.headers.add("Connection", "X-Hop")
            response.headers["Content-Type"] = "application/octet-stream"
            return response
        if kind == "status":
            return web.Response(status=int(segments[2]), headers={"X-Status": segments[2]})
        if kind == "gzip":
            response = web.Response(body=gzip.compress(b"squeezed " * 100, mtime=0))
            response.headers["Content-Encoding"] = "gzip"
            return response
        if kind == "drop":
            # Received, then the kept-alive connection closes without an answer.
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if kind in ("cut", "stall"):
            stream = web.StreamResponse()
            if kind == "cut":
                stream.content_length = int(segments[2])
            await stream.prepare(request)
            await stream.write(b"partial " * 100)
            if kind == "cut":
                assert request.transport is not None
                request.transport.abort()
                return stream
            await asyncio.sleep(int(segments[2]) / 1000)
            await stream.write(b"late")
            await stream.write_eof()
            return stream
        if kind == "big":
            stream = web.StreamResponse()
            await stream.prepare(request)
            for i in range(48):
                await stream.write(bytes([i]) * 65536)
            await stream.write_eof()
            return stream
        return web.json_response({"ok": True}, headers={"X-Backend": "echo"})


@pytest.fixture(scope="session")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


# -- helpers ------------------------------------------------------------------------------


def gateway(server: ApicronProcess) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{server.gateway_port}", timeout=30)


@pytest.fixture
def gw(server: ApicronProcess) -> Iterator[httpx.Client]:
    with gateway(server) as client:
        yield client


def orders() -> str:
    """A path no other test uses, with one parameter."""
    return f"/{unique('p')}/orders/{{id}}"


def setup(world: World, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An app and a published API it owns, at :func:`orders` unless a path is given."""
    return world.setup(**{"path": orders(), **fields})


def hw(app: dict[str, Any]) -> dict[str, str]:
    return {"X-HW-ID": app["key"], "X-HW-AppKey": app["secret"]}


def path_of(api: dict[str, Any], **params: str) -> str:
    path: str = api["path"]
    for name, value in params.items():
        path = path.replace(f"{{{name}}}", value)
    return path


def signed_call(
    client: httpx.Client,
    method: str,
    target: str,
    app: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    sdk_date: datetime | None = None,
) -> httpx.Response:
    url = f"{client.base_url}".rstrip("/") + target
    signed = sign_request(
        method, url, headers or {}, body, key=app["key"], secret=app["secret"], sdk_date=sdk_date
    )
    return client.request(method, target, headers=signed, content=body)


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    return str(body["error_msg"])


# -- routing ------------------------------------------------------------------------------


class TestRouting:
    def test_a_none_api_passes_without_credentials(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        _, api = setup(
            world, auth_type="NONE", method="GET", backend_url=backend.url(f"{marker}/{{id}}")
        )
        r = gw.get(path_of(api, id="7"))
        assert r.status_code == 200, r.text
        assert r.json() == {"ok": True}
        assert backend.one(marker).target == f"{marker}/7"

    def test_an_unknown_route_or_method_is_404(self, world: World, gw: httpx.Client) -> None:
        _, api = setup(world, auth_type="NONE", method="GET")
        message = error(gw.get(f"/{unique('nothing')}/here"), 404, "NOT_FOUND")
        assert "no published API serves GET" in message
        error(gw.delete(path_of(api, id="1")), 404, "NOT_FOUND")
        error(gw.get(path_of(api, id="1") + "/more"), 404, "NOT_FOUND")

    def test_path_params_are_decoded_then_encoded_into_the_backend_url(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        _, api = setup(
            world, auth_type="NONE", method="GET",
            path=f"/{unique('p')}/files/{{name}}/v/{{rev}}",
            backend_url=backend.url(f"{marker}/{{rev}}/{{name}}"),
        )
        prefix = api["path"].split("/files/")[0]
        r = gw.get(f"{prefix}/files/a%20b%2Fc%C3%BC/v/~x.y_z-1")
        assert r.status_code == 200, r.text
        assert backend.one(marker).target == f"{marker}/~x.y_z-1/a%20b%2Fc%C3%BC"

    def test_a_trailing_slash_does_not_matter(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        _, api = setup(
            world, auth_type="NONE", method="GET",
            backend_url=backend.url(f"{backend.path()}/{{id}}"),
        )
        assert gw.get(path_of(api, id="3") + "/").status_code == 200

    def test_dot_segments_are_not_parameters(self, world: World, gw: httpx.Client) -> None:
        _, api = setup(world, auth_type="NONE", method="GET")
        # Encoded, since clients resolve literal dot segments before sending.
        for value in ("%2E%2E", "%2e"):
            error(gw.get(path_of(api, id=value)), 404, "NOT_FOUND")

    def test_exact_segments_beat_parameters(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        group = world.group(world.app())
        prefix = f"/{unique('p')}"
        routes = {
            "param": f"{prefix}/items/{{id}}",
            "latest": f"{prefix}/items/latest",
            "a-then-c": f"{prefix}/{{a}}/c/d",
            "b-then-param": f"{prefix}/b/{{x}}/e",
        }
        markers = {}
        for name, path in routes.items():
            markers[name] = backend.path()
            world.api(group, auth_type="NONE", method="GET", path=path,
                      backend_url=backend.url(markers[name]))

        def served_by(path: str) -> str:
            assert gw.get(path).status_code == 200, path
            found = [name for name, marker in markers.items() if backend.to(marker)]
            for name in found:
                backend.received = [r for r in backend.received
                                    if markers[name] not in r.target]
            assert len(found) == 1, found
            return found[0]

        assert served_by(f"{prefix}/items/latest") == "latest"
        assert served_by(f"{prefix}/items/42") == "param"
        assert served_by(f"{prefix}/b/c/e") == "b-then-param"
        # The literal branch (b) fails further on, so the parameter branch answers.
        assert served_by(f"{prefix}/b/c/d") == "a-then-c"

    def test_the_backend_url_query_is_kept_before_the_request_query(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        _, api = setup(
            world, auth_type="NONE", method="GET",
            backend_url=backend.url(f"{marker}/{{id}}?fixed=1"),
        )
        assert gw.get(path_of(api, id="1") + "?a=2&a=3").status_code == 200
        assert backend.one(marker).query == "fixed=1&a=2&a=3"

    def test_a_group_domain_host_routes_only_within_its_group(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app = world.app()
        mine, other = world.group(app), world.group(app)
        api = world.api(mine, auth_type="NONE", method="GET", path=orders(),
                        backend_url=backend.url("/x"))
        elsewhere = world.api(other, auth_type="NONE", method="GET", path=orders())
        r = gw.get(path_of(api, id="1"), headers={"Host": mine["domain"]})
        assert r.status_code == 200, r.text
        r = gw.get(path_of(api, id="1"), headers={"Host": f"{mine['domain'].upper()}:8081"})
        assert r.status_code == 200, r.text
        message = error(
            gw.get(path_of(elsewhere, id="1"), headers={"Host": mine["domain"]}), 404, "NOT_FOUND"
        )
        assert mine["domain"] in message

    def test_with_app_route_off_only_the_group_domain_routes(
        self, fresh_server: ApicronProcess, backend: Backend
    ) -> None:
        with fresh_server.client() as client, gateway(fresh_server) as gw:
            world = World(client)
            app = world.app()
            group = world.group(app)
            api = world.api(group, method="GET", path=orders(), backend_url=backend.url("/x/{id}"))
            target = path_of(api, id="1")
            assert gw.get(target, headers=hw(app)).status_code == 200
            world.ok(client.put("/v1/instance", json={"params": {"app_route": False}}))

            message = error(gw.get(target, headers=hw(app)), 404, "NOT_FOUND")
            assert "app_route is off" in message and "domain" in message
            r = gw.get(target, headers={**hw(app), "Host": group["domain"]})
            assert r.status_code == 200, r.text
            r = signed_call(gw, "GET", target, app, headers={"Host": group["domain"]})
            assert r.status_code == 200, r.text

            world.ok(client.put("/v1/instance", json={"params": {"app_route": True}}))
            assert gw.get(target, headers=hw(app)).status_code == 200


# -- publishing -----------------------------------------------------------------------------


class TestPublishing:
    def test_publish_and_unpublish_take_effect_on_the_next_call(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        _, api = setup(
            world, auth_type="NONE", method="GET", publish=False, backend_url=backend.url("/x")
        )
        target = path_of(api, id="1")
        error(gw.get(target), 404, "NOT_FOUND")
        world.ok(world.client.post(f"/v1/apis/{api['id']}/publish"))
        assert gw.get(target).status_code == 200
        world.ok(world.client.post(f"/v1/apis/{api['id']}/unpublish"))
        error(gw.get(target), 404, "NOT_FOUND")
        world.ok(world.client.post(f"/v1/apis/{api['id']}/publish"))
        assert gw.get(target).status_code == 200

    def test_an_edit_is_served_only_once_republished(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        before, after = backend.path(), backend.path()
        _, api = setup(world, auth_type="NONE", method="GET", backend_url=backend.url(before))
        target = path_of(api, id="1")
        edited = world.client.put(
            f"/v1/apis/{api['id']}",
            json={"backend_url": backend.url(after), "auth_type": "APP"},
        )
        world.ok(edited)
        assert gw.get(target).status_code == 200  # still the NONE snapshot
        assert len(backend.to(before)) == 1 and not backend.to(after)

        world.ok(world.client.post(f"/v1/apis/{api['id']}/publish"))
        error(gw.get(target), 401, "UNAUTHORIZED")


# -- app_secret authentication ----------------------------------------------------------------


class TestAppSecret:
    def test_missing_credentials_are_401(self, world: World, gw: httpx.Client) -> None:
        _, api = setup(world, )
        r = gw.post(path_of(api, id="1"))
        message = error(r, 401, "UNAUTHORIZED")
        assert "SDK-HMAC-SHA256" in message and "X-HW-ID" in message
        assert r.headers["www-authenticate"] == "SDK-HMAC-SHA256"

    @pytest.mark.parametrize(
        "credentials",
        [
            pytest.param(lambda app: {"X-HW-ID": "no-such-key", "X-HW-AppKey": app["secret"]},
                         id="bad-key"),
            pytest.param(lambda app: {"X-HW-ID": app["key"], "X-HW-AppKey": "wrong"},
                         id="bad-secret"),
            pytest.param(lambda app: {"X-HW-ID": app["key"]}, id="key-only"),
            pytest.param(lambda app: {"X-HW-AppKey": app["secret"]}, id="secret-only"),
        ],
    )
    def test_wrong_credentials_are_401(
        self, world: World, gw: httpx.Client, credentials: Any
    ) -> None:
        app, api = setup(world, )
        given = credentials(app)
        message = error(gw.post(path_of(api, id="1"), headers=given), 401, "UNAUTHORIZED")
        assert app["secret"] not in message

    def test_the_owner_passes_and_the_backend_never_sees_credentials(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        r = gw.post(path_of(api, id="1"), headers={**hw(app), "Authorization": "Bearer x"})
        assert r.status_code == 200, r.text
        seen = backend.one(marker)
        assert not seen.names() & {"authorization", "x-hw-id", "x-hw-appkey"}
        assert app["secret"] not in str(seen.headers)

    def test_app_secret_headers_work_only_while_the_param_is_on(
        self, fresh_server: ApicronProcess, backend: Backend
    ) -> None:
        with fresh_server.client() as client, gateway(fresh_server) as gw:
            world = World(client)
            app, api = setup(world, method="GET", backend_url=backend.url("/x"))
            target = path_of(api, id="1")
            assert gw.get(target, headers=hw(app)).status_code == 200

            world.ok(client.put("/v1/instance", json={"params": {"app_secret": False}}))
            message = error(gw.get(target, headers=hw(app)), 401, "UNAUTHORIZED")
            assert "app_secret is off" in message
            assert signed_call(gw, "GET", target, app).status_code == 200
            assert "X-HW-ID" not in error(gw.get(target), 401, "UNAUTHORIZED")

            world.ok(client.put("/v1/instance", json={"params": {"app_secret": True}}))
            assert gw.get(target, headers=hw(app)).status_code == 200

    def test_a_reset_secret_takes_effect_on_the_next_call(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/x"))
        target = path_of(api, id="1")
        assert gw.post(target, headers=hw(app)).status_code == 200
        reset = world.ok(world.client.post(f"/v1/apps/{app['id']}/reset-secret"))
        error(gw.post(target, headers=hw(app)), 401, "UNAUTHORIZED")
        assert gw.post(target, headers=hw(reset)).status_code == 200
        assert signed_call(gw, "POST", target, reset).status_code == 200
        error(signed_call(gw, "POST", target, app), 401, "UNAUTHORIZED")


# -- SDK-HMAC-SHA256 signatures -----------------------------------------------------------------

QUERY = "a=1&a=2&b=x%20y&plus=a+b&u=%C3%BC%E2%9C%93&empty=&flag&z=%2B"
CANONICAL_QUERY = "a=1&a=2&b=x%20y&empty=&flag=&plus=a%20b&u=%C3%BC%E2%9C%93&z=%2B"


class TestSignature:
    @pytest.mark.parametrize(
        ("method", "body"),
        [
            ("GET", b""),
            ("POST", b'{"item": "b\xc3\xbcch", "n": 1}'),
            ("PUT", bytes(range(256)) * 4),
        ],
    )
    def test_signed_calls_pass_with_query_params_and_body_unchanged(
        self, world: World, gw: httpx.Client, backend: Backend, method: str, body: bytes
    ) -> None:
        marker = backend.path()
        app, api = setup(
            world, method=method, path=f"/{unique('p')}/orders/{{id}}/lines",
            backend_url=backend.url(f"{marker}/{{id}}"),
        )
        target = path_of(api, id="%C3%BC%201") + "?" + QUERY
        headers = {"Content-Type": "application/json", "X-Custom": "kept"}
        r = signed_call(gw, method, target, app, headers=headers, body=body)
        assert r.status_code == 200, r.text
        seen = backend.one(marker)
        assert seen.method == method
        # The canonical form the signature covers: sorted, "+" a space, one encoding.
        assert seen.target == f"{marker}/%C3%BC%201?{CANONICAL_QUERY}"
        assert seen.body == body
        assert seen.header("X-Custom") == ["kept"]
        assert seen.header("Content-Type") == ["application/json"]
        assert not seen.names() & {"authorization", "x-sdk-date", "x-hw-id", "x-hw-appkey"}

    @pytest.mark.parametrize("part", ["header", "body", "path", "query"])
    def test_a_tampered_request_is_401(
        self, world: World, gw: httpx.Client, backend: Backend, part: str
    ) -> None:
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        target = path_of(api, id="1") + "?q=1"
        headers = {"X-Custom": "signed value"}
        url = f"{gw.base_url}".rstrip("/") + target
        signed = sign_request("POST", url, headers, b"body", key=app["key"], secret=app["secret"])
        sent_target, sent_body = target, b"body"
        if part == "header":
            signed["X-Custom"] = "changed value"
        elif part == "body":
            sent_body = b"bodY"
        elif part == "path":
            sent_target = path_of(api, id="2") + "?q=1"
        else:
            sent_target = path_of(api, id="1") + "?q=2"
        r = gw.post(sent_target, headers=signed, content=sent_body)
        assert "signature does not match" in error(r, 401, "UNAUTHORIZED")
        assert not backend.to(marker)

    def test_a_signature_made_with_another_secret_is_401(
        self, world: World, gw: httpx.Client
    ) -> None:
        app, api = setup(world, )
        forged = {**app, "secret": "not-the-secret"}
        r = signed_call(gw, "POST", path_of(api, id="1"), forged)
        assert "signature does not match" in error(r, 401, "UNAUTHORIZED")

    def test_an_unknown_key_is_401(self, world: World, gw: httpx.Client) -> None:
        _, api = setup(world, )
        r = signed_call(gw, "POST", path_of(api, id="1"), {"key": "nobody", "secret": "s"})
        assert "unknown app key" in error(r, 401, "UNAUTHORIZED")

    @pytest.mark.parametrize("minutes", [-16, 16])
    def test_a_clock_skew_over_15_minutes_is_401(
        self, world: World, gw: httpx.Client, minutes: int
    ) -> None:
        app, api = setup(world, )
        when = datetime.now(UTC) + timedelta(minutes=minutes)
        r = signed_call(gw, "POST", path_of(api, id="1"), app, sdk_date=when)
        message = error(r, 401, "UNAUTHORIZED")
        assert "X-Sdk-Date" in message and ("behind" if minutes < 0 else "ahead of") in message

    def test_a_skew_within_15_minutes_passes(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/x"))
        when = datetime.now(UTC) - timedelta(minutes=14)
        assert signed_call(gw, "POST", path_of(api, id="1"), app, sdk_date=when).status_code == 200

    def test_the_backend_receives_the_signed_canonical_query_whatever_the_order_sent(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        """SDK-HMAC-SHA256 signs the query sorted by name then value, so a signature made
        for a=1&a=2 also verifies a=2&a=1: the backend gets the form that was signed."""
        marker = backend.path()
        app, api = setup(world, method="GET", backend_url=backend.url(marker))
        target = path_of(api, id="1")
        url = f"{gw.base_url}".rstrip("/") + target
        signed = sign_request("GET", url + "?a=1&a=2", {}, b"", key=app["key"],
                              secret=app["secret"])
        r = gw.get(target + "?a=2&a=1", headers=signed)
        assert r.status_code == 200, r.text
        assert backend.one(marker).query == "a=1&a=2"

    @pytest.mark.parametrize("extra", ["&=injected&&", "&=", "&=injected"])
    def test_a_query_part_the_signature_cannot_cover_is_refused(
        self, world: World, gw: httpx.Client, backend: Backend, extra: str
    ) -> None:
        marker = backend.path()
        app, api = setup(world, method="GET", backend_url=backend.url(marker))
        target = path_of(api, id="1") + "?q=1"
        url = f"{gw.base_url}".rstrip("/") + target
        signed = sign_request("GET", url, {}, b"", key=app["key"], secret=app["secret"])
        message = error(gw.get(target + extra, headers=signed), 400, "BAD_REQUEST")
        assert "empty name" in message
        assert not backend.to(marker)
        assert gw.get(target + "&&", headers=signed).status_code == 200  # empty parts: none

    def test_a_signature_without_the_host_is_refused_even_with_no_host_header(
        self, server: ApicronProcess, world: World, backend: Backend
    ) -> None:
        """An HTTP/1.0 request may have no Host header; a signature must still cover one,
        or it could be replayed against any gateway the app can call."""
        marker = backend.path()
        app, api = setup(world, method="GET", backend_url=backend.url(marker))
        target = path_of(api, id="1")
        date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        headers = {"X-Sdk-Date": date}
        canonical = canonical_request("GET", target, "", headers, ["x-sdk-date"])
        signature = hmac.new(app["secret"].encode(), string_to_sign(date, canonical).encode(),
                             hashlib.sha256).hexdigest()
        authorization = (f"SDK-HMAC-SHA256 Access={app['key']}, SignedHeaders=x-sdk-date, "
                         f"Signature={signature}")
        request = (f"GET {target} HTTP/1.0\r\nX-Sdk-Date: {date}\r\n"
                   f"Authorization: {authorization}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", server.gateway_port), timeout=30) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert b" 401 " in status_line, answer
        assert b"must include host" in rest
        assert not backend.to(marker)

    def test_unsigned_header_changes_are_ignored(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        target = path_of(api, id="1")
        url = f"{gw.base_url}".rstrip("/") + target
        signed = sign_request("POST", url, {"X-Signed": "1"}, b"", key=app["key"],
                              secret=app["secret"])
        r = gw.post(target, headers={**signed, "X-Added-Later": "2", "User-Agent": "other"})
        assert r.status_code == 200, r.text
        assert backend.one(marker).header("X-Added-Later") == ["2"]


# -- grants -----------------------------------------------------------------------------------


class TestGrants:
    def test_a_grant_lets_another_app_call_until_revoked(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        _, api = setup(world, backend_url=backend.url("/x"))
        caller = world.app()
        target = path_of(api, id="1")
        message = error(gw.post(target, headers=hw(caller)), 403, "FORBIDDEN")
        assert caller["name"] in message and api["name"] in message

        grant = world.grant(caller, api)
        assert gw.post(target, headers=hw(caller)).status_code == 200
        assert signed_call(gw, "POST", target, caller).status_code == 200

        world.ok(world.client.delete(f"/v1/app-auths/{grant['id']}"), 204)
        error(gw.post(target, headers=hw(caller)), 403, "FORBIDDEN")
        error(signed_call(gw, "POST", target, caller), 403, "FORBIDDEN")

    def test_a_grant_is_for_one_api_only(self, world: World, gw: httpx.Client) -> None:
        owner = world.app()
        group = world.group(owner)
        granted, other = world.api(group, path=orders()), world.api(group, path=orders())
        caller = world.app()
        world.grant(caller, granted)
        error(gw.post(path_of(other, id="1"), headers=hw(caller)), 403, "FORBIDDEN")


# -- limits and backend failures ------------------------------------------------------------------


class TestFailures:
    def test_a_body_over_12_mib_is_413(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        target = path_of(api, id="1")
        r = gw.post(target, headers=hw(app), content=b"x" * (12 * MIB + 1))
        assert "12 MiB" in error(r, 413, "TOO_LARGE")

        def chunks() -> Iterator[bytes]:
            for _ in range(13):
                yield b"y" * MIB

        error(gw.post(target, headers=hw(app), content=chunks()), 413, "TOO_LARGE")
        assert not backend.to(marker)

    def test_a_body_of_12_mib_passes(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        body = b"z" * (12 * MIB)
        assert gw.post(path_of(api, id="1"), headers=hw(app), content=body).status_code == 200
        assert backend.one(marker).body == body

    def test_a_backend_that_is_down_is_502(self, world: World, gw: httpx.Client) -> None:
        app, api = setup(world, backend_url=f"http://127.0.0.1:{free_port()}/down")
        r = gw.post(path_of(api, id="1"), headers=hw(app))
        message = error(r, 502, "BACKEND_UNREACHABLE")
        assert api["name"] in message and "127.0.0.1" not in message

    def test_a_backend_slower_than_its_timeout_is_504(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/slow/3000"), backend_timeout_ms=300)
        started = time.monotonic()
        r = gw.post(path_of(api, id="1"), headers=hw(app))
        assert "300 ms" in error(r, 504, "BACKEND_TIMEOUT")
        assert time.monotonic() - started < 2.5

    @pytest.mark.parametrize(
        "line",
        [b"X-HW-AppKey: bad\x01leaked-secret-value", b"X-HW-AppKey leaked-secret-value"],
    )
    def test_a_malformed_header_line_is_not_echoed_back(
        self, server: ApicronProcess, line: bytes
    ) -> None:
        """aiohttp's 400 page quotes the line it could not parse: a credential sent by a
        broken client would come back in the answer (and any proxy log of it)."""
        request = b"GET /x HTTP/1.1\r\nHost: gw\r\n" + line + b"\r\n\r\n"
        status, body = raw_http(server.gateway_port, request)
        assert status == 400, body
        assert b"leaked-secret-value" not in body and b"X-HW-AppKey" not in body
        answer = json.loads(body)
        assert answer["error_code"] == "BAD_REQUEST"
        assert "malformed" in answer["error_msg"]
        assert "leaked-secret-value" not in server.log()

    @pytest.mark.parametrize(
        "backend_url",
        [
            # Spellings the system resolver turns into 169.254.169.254 although Python does
            # not call them addresses; the call-time guard is tested in-process
            # (test_gateway_pipeline), since no saved API can point there any more.
            "http://0xa9.254.169.254:9/latest/meta-data",
            "http://2852039166:9/latest/meta-data",
            "http://[::ffff:169.254.169.254]:9/latest/meta-data",
        ],
    )
    def test_a_backend_at_a_disguised_link_local_address_is_refused_when_saved(
        self, world: World, backend_url: str
    ) -> None:
        group = world.group(world.app())
        r = world.client.post("/v1/apis", json={
            "group_id": group["id"], "name": unique("api"), "method": "GET",
            "path": f"/{unique('p')}", "backend_url": backend_url,
        })
        assert r.status_code == 400, r.text
        assert r.json()["error_msg"].startswith("backend_url") and "169.254.169.254" in r.text


# -- what goes through ----------------------------------------------------------------------------


class TestProxying:
    def test_hop_by_hop_headers_are_dropped_and_forwarding_headers_set(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        r = gw.post(
            path_of(api, id="1"),
            headers={
                **hw(app),
                "Connection": "keep-alive, X-Per-Hop",
                "X-Per-Hop": "1",
                "Keep-Alive": "timeout=5",
                "Proxy-Authorization": "Basic eDp5",
                "TE": "trailers",
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-End-To-End": "kept",
            },
        )
        assert r.status_code == 200, r.text
        seen = backend.one(marker)
        dropped = {"x-per-hop", "keep-alive", "proxy-authorization", "te", "x-hw-id",
                   "x-hw-appkey", "authorization"}
        assert not seen.names() & dropped
        assert seen.header("Connection") in ([], ["keep-alive"])  # aiohttp's own, if any
        assert seen.header("X-Forwarded-For") == ["203.0.113.9, 127.0.0.1"]
        assert seen.header("X-Forwarded-Proto") == ["http"]
        assert seen.header("X-End-To-End") == ["kept"]
        assert seen.header("Host") == [f"127.0.0.1:{backend.port}"]

    @pytest.mark.parametrize("auth", ["NONE", "APP_SECRET", "SIGNATURE"])
    def test_occurrence_headers_a_caller_sends_never_reach_the_backend(
        self, world: World, gw: httpx.Client, backend: Backend, auth: str
    ) -> None:
        """Backends deduplicate on X-Apicron-Execution-Id: only apicron's scheduler may set
        it, so whatever a caller sends under X-Apicron-* is dropped."""
        marker = backend.path()
        app, api = setup(world, auth_type="NONE" if auth == "NONE" else "APP",
                         backend_url=backend.url(marker))
        forged = {
            "X-Apicron-Task-Id": "forged-task", "X-Apicron-Execution-Id": "forged-execution",
            "X-Apicron-Scheduled-Time": "2027-03-01T08:00:00Z", "X-Apicron-Attempt": "1",
            "X-Apicron-Occurrence-Signature": "v1=" + "0" * 64, "x-apicron-anything": "1",
        }
        target = path_of(api, id="1")
        if auth == "SIGNATURE":
            r = signed_call(gw, "POST", target, app, headers=forged)
        else:
            r = gw.post(target, headers={**forged, **(hw(app) if auth == "APP_SECRET" else {})})
        assert r.status_code == 200, r.text
        seen = backend.one(marker)
        assert not [name for name in seen.names() if name.startswith("x-apicron-")]
        assert "forged" not in str(seen.headers)

    def test_the_backend_answer_comes_back(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/reply"))
        r = gw.post(path_of(api, id="1"), headers=hw(app))
        assert r.status_code == 201
        assert r.content == REPLY_BODY
        assert r.headers["x-backend-id"] == "b-1"
        assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
        assert r.headers["content-type"] == "application/octet-stream"
        assert "x-hop" not in r.headers and "keep-alive" not in r.headers

    @pytest.mark.parametrize("status", [204, 304, 404, 503])
    def test_the_backend_status_comes_back(
        self, world: World, gw: httpx.Client, backend: Backend, status: int
    ) -> None:
        app, api = setup(world, backend_url=backend.url(f"/status/{status}"))
        r = gw.post(path_of(api, id="1"), headers=hw(app))
        assert r.status_code == status and r.headers["x-status"] == str(status)
        assert r.content == b""

    def test_a_head_api_answers_headers_only(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        marker = backend.path()
        app, api = setup(world, method="HEAD", backend_url=backend.url(marker))
        r = gw.head(path_of(api, id="1"), headers=hw(app))
        assert r.status_code == 200 and r.headers["x-backend"] == "echo"
        assert r.content == b""
        assert backend.one(marker).method == "HEAD"

    def test_a_compressed_answer_is_passed_unchanged(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/gzip"))
        with gw.stream("POST", path_of(api, id="1"), headers=hw(app)) as r:
            raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert raw == gzip.compress(b"squeezed " * 100, mtime=0)

    def test_a_large_answer_is_streamed_back(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/big"))
        r = gw.post(path_of(api, id="1"), headers=hw(app))
        assert r.status_code == 200
        assert r.content == b"".join(bytes([i]) * 65536 for i in range(48))

    def test_a_get_the_backend_dropped_is_not_sent_again(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        """aiohttp resends an idempotent request once when a reused connection drops; the
        backend already had it, so the caller (and a task's attempt) would reach it twice."""
        marker = backend.path()
        app, api = setup(world, method="GET", backend_url=backend.url(f"{marker}/ok"))
        dropping = world.api(world.group(app), method="GET", path=orders(),
                             backend_url=backend.url(f"/drop{marker}"))
        for _ in range(3):  # the gateway now holds a kept-alive connection to the backend
            assert gw.get(path_of(api, id="1"), headers=hw(app)).status_code == 200
        error(gw.get(path_of(dropping, id="1"), headers=hw(app)), 502, "BACKEND_ERROR")
        assert len(backend.to(f"/drop{marker}")) == 1

    def test_a_small_answer_cut_short_by_the_backend_is_502(
        self, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/cut/1000"))
        error(gw.post(path_of(api, id="1"), headers=hw(app)), 502, "BACKEND_ERROR")

    @pytest.mark.parametrize("behaviour", ["/cut/100000", "/stall/3000"])
    def test_a_large_answer_cut_short_by_the_backend_is_cut_short_for_the_caller(
        self, world: World, gw: httpx.Client, backend: Backend, behaviour: str
    ) -> None:
        app, api = setup(world, backend_url=backend.url(behaviour), backend_timeout_ms=500)
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            gw.post(path_of(api, id="1"), headers=hw(app))
        assert time.monotonic() - started < 2.5
        assert gw.get(f"/{unique('after')}").status_code == 404  # the gateway carries on

    def test_the_access_log_has_one_line_per_call_and_no_credentials(
        self, server: ApicronProcess, world: World, gw: httpx.Client, backend: Backend
    ) -> None:
        app, api = setup(world, backend_url=backend.url("/x"))
        target = path_of(api, id="1")
        assert gw.post(target + "?token=query-secret", headers=hw(app)).status_code == 200
        assert signed_call(gw, "POST", target, app).status_code == 200
        error(gw.post(target, headers={**hw(app), "X-HW-AppKey": "wrong-secret"}),
              401, "UNAUTHORIZED")
        lines: list[str] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = [line for line in server.log().splitlines()
                     if "apicron.gateway.access" in line and target in line]
            if len(lines) == 3:
                break
            time.sleep(0.05)
        assert len(lines) == 3, lines
        assert f"POST {target} 200" in lines[0] and f"app={app['id']}" in lines[0]
        assert f"api={api['id']}" in lines[2] and " 401 " in lines[2]
        log = server.log()
        for secret in (app["secret"], "wrong-secret", "query-secret", "Signature="):
            assert secret not in log
