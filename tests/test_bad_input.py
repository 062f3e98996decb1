"""Bad input at every edge of a real server: each is a clear 4xx naming the field or rule,
nothing is stored, and the server is healthy after.

Rules already covered one by one elsewhere (test_task_rules, test_resources_api,
test_gateway) are not repeated; this file covers what crosses them: sizes, encodings,
nesting, injection, traversal, unknown fields and wrong types on every body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import World, unique
from tests.reliability_helpers import (
    assert_healthy,
    error_of,
    log_mark,
    raw_http,
    raw_json,
    wait_for,
)
from tests.servers import ApicronProcess
from tests.test_gateway import Backend
from tests.test_secrets_leak import console_login

MIB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def owned(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    return world.setup()


@pytest.fixture
def mark(server: ApicronProcess) -> int:
    return log_mark(server)


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def refused_raw(
    world: World, method: str, path: str, content: bytes, status: int, field: str
) -> str:
    """Send ``content`` as a JSON body; the refusal names ``field`` and nothing changed."""
    before = world.snapshot()
    r = world.client.request(method, path, content=content, headers=JSON)
    message = error_of(r, status, field)
    assert world.snapshot() == before
    return message


def bodies(world: World, owned: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """A valid create (or update) body for every operation that takes one."""
    app, api = owned
    return {
        "POST /v1/apps": {"name": unique("app")},
        "POST /v1/api-groups": {"name": unique("grp"), "app_id": app["id"]},
        "POST /v1/apis": {
            "group_id": api["group_id"], "name": unique("api"), "method": "GET",
            "path": f"/{unique('p')}", "backend_url": "http://127.0.0.1:9/x",
        },
        "POST /v1/app-auths": {"app_id": world.app()["id"], "api_ids": [api["id"]]},
        "POST /v1/tasks": world.task_body(app, api),
        "PUT /v1/instance": {"timezone": "UTC"},
        "POST /v1/cron/preview": {"cron_expression": "0 0 12 ? * 6#3"},
        f"PUT /v1/apps/{app['id']}": {"description": "changed"},
    }


OPERATIONS = [
    "POST /v1/apps", "POST /v1/api-groups", "POST /v1/apis", "POST /v1/app-auths",
    "POST /v1/tasks", "PUT /v1/instance", "POST /v1/cron/preview",
]

def send(world: World, operation: str, body: Any) -> httpx.Response:
    method, path = operation.split(" ")
    return world.client.request(method, path, content=raw_json(body), headers=JSON)


# -- sizes ----------------------------------------------------------------------------------


class TestOversizedBodies:
    def test_a_task_body_over_1_mib_is_413_naming_the_content(
        self, world: World, owned: Any
    ) -> None:
        body = world.task_body(*owned, request={
            "body": {"content_type": "application/json", "content": '"' + "x" * MIB + '"'},
        })
        message = refused_raw(world, "POST", "/v1/tasks", raw_json(body), 413,
                              "request.body.content")
        assert "1 MiB" in message

    def test_a_streamed_request_over_4_mib_is_413_before_it_is_read_whole(
        self, world: World
    ) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"name": "streamed", "description": "'
            for _ in range(5):
                yield b"y" * MIB
            yield b'"}'

        before = world.snapshot()
        r = world.client.post("/v1/apps", content=chunks(), headers=JSON)
        assert r.status_code == 413, r.text
        assert r.json()["error_code"] == "TOO_LARGE" and "4 MiB" in r.json()["error_msg"]
        assert world.snapshot() == before

    def test_a_declared_length_over_4_mib_is_413_without_a_body(
        self, server: ApicronProcess
    ) -> None:
        request = (
            b"POST /v1/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer test-admin-token-0123456789abcdef\r\n"
            b"Content-Length: 99999999999\r\nConnection: close\r\n\r\n"
        )
        status, body = raw_http(server.api_port, request)
        assert status == 413 and b"TOO_LARGE" in body


# -- encodings ------------------------------------------------------------------------------


class TestInvalidText:
    @pytest.mark.parametrize("body", [b'{"name": "ab\xc3\x28cd"}', b"\xff\xfe{}"])
    def test_bytes_that_are_not_utf8_are_400_naming_the_body(
        self, world: World, body: bytes
    ) -> None:
        refused_raw(world, "POST", "/v1/apps", body, 400, "body")

    def test_a_surrogate_encoded_as_utf8_bytes_is_400_naming_the_field(
        self, world: World
    ) -> None:
        # Python's JSON reader lets CESU-8 surrogates through ('surrogatepass').
        body = b'{"name": "abc", "description": "\xed\xa0\x80x"}'
        assert "surrogate" in refused_raw(world, "POST", "/v1/apps", body, 400, "description")

    @pytest.mark.parametrize(
        ("operation", "patch", "field"),
        [
            ("POST /v1/apps", {"description": "x\ud800y"}, "description"),
            ("POST /v1/apps", {"description": "nul \x00 inside"}, "description"),
            ("POST /v1/api-groups", {"description": "\udfff"}, "description"),
            ("POST /v1/apis", {"description": "tail \udbff"}, "description"),
            ("POST /v1/app-auths", {"api_ids": ["x\udc80"]}, "api_ids[0]"),
            ("POST /v1/tasks", {"app_id": "a\ud800"}, "app_id"),
            ("POST /v1/tasks", {"description": "\x00"}, "description"),
            ("POST /v1/tasks", {"request": {"headers": [{"name": "X-A", "value": "\ud800"}]}},
             "request.headers[0].value"),
            ("POST /v1/tasks", {"request": {"query": [{"name": "q", "value": "\x00"}]}},
             "request.query[0].value"),
            ("POST /v1/tasks", {"request": {"query": [{"name": "\udcff", "value": "v"}]}},
             "request.query[0].name"),
            ("POST /v1/tasks", {"cron_expression": "0 0 \ud800 * * ?"}, "cron_expression"),
            ("PUT /v1/instance", {"timezone": "Europe/\ud800"}, "timezone"),
            ("POST /v1/cron/preview", {"timezone": "Europe/\ud800"}, "timezone"),
            ("POST /v1/cron/preview", {"cron_expression": "0 0 \ud800 * * ?"},
             "cron_expression"),
        ],
    )
    def test_lone_surrogates_and_nul_in_any_string_are_400_naming_the_field(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, operation: str,
        patch: dict[str, Any], field: str,
    ) -> None:
        """JSON may escape them (\\ud800, \\u0000), but no database stores them as text."""
        body = bodies(world, owned)[operation] | patch
        before = world.snapshot()
        message = error_of(send(world, operation, body), 400, field)
        assert "surrogate" in message or "NUL" in message
        assert world.snapshot() == before
        assert_healthy(server, mark)

    def test_a_number_too_long_to_convert_is_400_naming_the_body(self, world: World) -> None:
        body = b'{"name": "abc", "max_retries": 1' + b"0" * 5000 + b"}"
        message = refused_raw(world, "POST", "/v1/tasks", body, 400, "body")
        assert "number" in message, message  # the reason, not a guess at another one


# -- nesting --------------------------------------------------------------------------------


class TestNesting:
    @pytest.mark.parametrize(
        "operation",
        ["POST /v1/tasks", "PUT /v1/instance", "POST /v1/cron/preview", "POST /v1/app-auths"],
    )
    def test_json_nested_past_the_parser_limit_is_400_naming_the_body(
        self, server: ApicronProcess, mark: int, world: World, operation: str
    ) -> None:
        method, path = operation.split(" ")
        refused_raw(world, method, path, b"[" * 100_000 + b"]" * 100_000, 400, "body")
        refused_raw(world, method, path, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, "body")
        assert_healthy(server, mark)

    @pytest.mark.parametrize("depth", [900, 945, 960, 990])
    def test_json_nested_within_the_parser_limit_is_400_naming_the_field(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, depth: int
    ) -> None:
        """Issue 13 §4: from 945 levels on, the storable-text check recursed into a 500.

        Near a thousand levels the JSON reader itself gives up (where exactly depends on
        the stack it starts from): then the refusal names the body."""
        deep = "[" * depth + "]" * depth
        body = world.task_body(*owned)
        content = raw_json(body)[:-1] + b', "request": {"headers": ' + deep.encode() + b"}}"
        before = world.snapshot()
        r = world.client.post("/v1/tasks", content=content, headers=JSON)
        assert r.status_code == 400, r.text
        assert r.json()["field"] in ("request.headers[0]", "body"), r.text
        assert world.snapshot() == before
        if depth <= 900:
            assert r.json()["field"] == "request.headers[0]"
        assert_healthy(server, mark)

    @pytest.mark.parametrize("operation", [*OPERATIONS, "PUT app", "PUT api", "PUT task"])
    @pytest.mark.parametrize("depth", [950, 990])
    def test_every_body_nested_within_the_parser_limit_is_400(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, operation: str,
        depth: int,
    ) -> None:
        every = bodies(world, owned)
        app, api = owned
        targets = {"PUT app": f"PUT /v1/apps/{app['id']}", "PUT api": f"PUT /v1/apis/{api['id']}",
                   "PUT task": f"PUT /v1/tasks/{world.task(*owned)['id']}"}
        method, path = targets.get(operation, operation).split(" ")
        deep = ("[" * depth + "]" * depth).encode()
        body = {k: v for k, v in every.get(operation, {}).items() if k != "description"}
        content = raw_json(body | {"description": ""})[:-3] + deep + b"}"
        r = world.client.request(method, path, content=content, headers=JSON)
        assert r.status_code == 400, r.text
        assert_healthy(server, mark)

    def test_a_task_body_content_nested_past_the_parser_limit_is_400_naming_it(
        self, server: ApicronProcess, mark: int, world: World, owned: Any
    ) -> None:
        content = "[" * 100_000 + "]" * 100_000
        body = world.task_body(*owned, request={
            "body": {"content_type": "application/json", "content": content}})
        message = refused_raw(world, "POST", "/v1/tasks", raw_json(body), 400,
                              "request.body.content")
        assert "nested" in message
        assert_healthy(server, mark)

    def test_the_console_preview_refuses_json_nested_past_the_parser_limit(
        self, server: ApicronProcess, mark: int
    ) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            csrf = console_session(browser)
            r = browser.post("/console/api/preview", content=b"[" * 100_000 + b"]" * 100_000,
                             headers=JSON | {"X-CSRF-Token": csrf})
        assert r.status_code == 400, r.text
        assert r.json()["field"] == "body"
        assert_healthy(server, mark)


# -- times at the edges of what a datetime holds ---------------------------------------------

# Each is a valid RFC 3339 time whose conversion to UTC (or from the task's zone) leaves the
# years 1-9999 that Python's datetime holds: they crashed with 500 (issue 13 §4).
EDGE_TIMES = [
    pytest.param("9999-12-31T23:59:59-14:00", "UTC", id="after-9999-in-utc"),
    pytest.param("0001-01-01T00:00:00+14:00", "UTC", id="before-year-1-in-utc"),
    pytest.param("0001-01-01T00:00:00", "Asia/Tokyo", id="naive-year-1-in-tokyo"),
    pytest.param("9999-12-31T23:59:59", "America/New_York", id="naive-9999-in-new-york"),
    pytest.param("1969-12-31T23:59:59Z", "UTC", id="before-1970"),
]
MOMENTS = ["effective_time", "end_time"]


def console_session(browser: httpx.Client) -> str:
    """Log ``browser`` in to the console; answer the session's CSRF token."""
    console_login(browser)
    found = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/console/tasks").text)
    assert found
    return found[1]


class TestTimesAtTheEdges:
    @pytest.mark.parametrize("field", MOMENTS)
    @pytest.mark.parametrize(("value", "zone"), EDGE_TIMES)
    def test_a_task_create_refuses_it_naming_the_field(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, field: str,
        value: str, zone: str,
    ) -> None:
        app, api = owned
        body = world.task_body(app, api, timezone=zone, **{field: value})
        before = world.snapshot()
        assert "1970" in error_of(send(world, "POST /v1/tasks", body), 400, field)
        assert world.snapshot() == before
        assert_healthy(server, mark)

    @pytest.mark.parametrize("field", MOMENTS)
    @pytest.mark.parametrize(("value", "zone"), EDGE_TIMES)
    def test_a_task_update_refuses_it_naming_the_field(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, field: str,
        value: str, zone: str,
    ) -> None:
        task = world.task(*owned)
        before = world.snapshot()
        r = world.client.put(f"/v1/tasks/{task['id']}", json={field: value, "timezone": zone})
        error_of(r, 400, field)
        assert world.snapshot() == before
        assert_healthy(server, mark)

    @pytest.mark.parametrize("field", MOMENTS)
    @pytest.mark.parametrize(("value", "zone"), EDGE_TIMES)
    def test_the_preview_refuses_it_naming_the_field(
        self, server: ApicronProcess, mark: int, client: httpx.Client, field: str, value: str,
        zone: str,
    ) -> None:
        body = {"trigger_type": "CALENDAR", "interval_unit": "MINUTE", "timezone": zone,
                field: value}
        error_of(client.post("/v1/cron/preview", json=body), 400, field)
        assert_healthy(server, mark)

    @pytest.mark.parametrize("field", MOMENTS)
    @pytest.mark.parametrize(("value", "zone"), EDGE_TIMES)
    def test_the_console_form_and_preview_refuse_it_at_the_field(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, field: str,
        value: str, zone: str,
    ) -> None:
        app, api = owned
        name = unique("edge")
        form = {"name": name, "app_id": app["id"], "api_id": api["id"], "description": "",
                "trigger_type": "CRON", "cron_expression": "0 0 12 ? * 6#3", "timezone": zone,
                "effective_time": "", "end_time": "", "max_retries": "0",
                "body_content_type": "application/json", "body_content": "",
                "misfire_policy": "RUN_ONCE", "overlap_policy": "SKIP", field: value}
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            csrf = console_session(browser)
            r = browser.post("/console/tasks", data=form | {"csrf_token": csrf})
            assert r.status_code == 400, r.text[-2000:]
            assert f'id="{field}-error"' in r.text
            preview = browser.post(
                "/console/api/preview", headers={"X-CSRF-Token": csrf},
                json={"trigger_type": "CALENDAR", "interval_unit": "MINUTE", "timezone": zone,
                      field: value},
            )
            assert preview.status_code == 400, preview.text
            assert preview.json()["field"] == field
        assert world.client.get("/v1/tasks", params={"name": name}).json()["total"] == 0
        assert_healthy(server, mark)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
            ({"to": "9999-12-31T23:59:59-14:00"}, "to"),
            ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}, "from"),
            ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00"}, "to"),
            ({"from": "yesterday"}, "from"),
        ],
    )
    def test_the_history_filters_refuse_it_naming_the_parameter(
        self, server: ApicronProcess, mark: int, world: World, owned: Any,
        params: dict[str, str], field: str,
    ) -> None:
        task = world.task(*owned)
        r = world.client.get(f"/v1/tasks/{task['id']}/executions", params=params)
        assert "Input should" not in error_of(r, 400, field)
        assert_healthy(server, mark)

    @pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "8999-12-31T23:59:59Z"])
    def test_the_first_and_last_accepted_times_work_in_every_zone(
        self, server: ApicronProcess, mark: int, world: World, owned: Any, value: str
    ) -> None:
        for zone in ("Pacific/Kiritimati", "Pacific/Niue", "Asia/Tokyo", "America/New_York"):
            task = world.task(*owned, trigger_type="CALENDAR", cron_expression=None,
                              interval_unit="MONTH", effective_time=value, timezone=zone)
            started = world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
            assert started["next_fire_time"] >= "2026"
            world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop"))
            r = world.client.post("/v1/cron/preview", json={
                "trigger_type": "CALENDAR", "interval_unit": "MONTH", "effective_time": value,
                "timezone": zone, "count": 3})
            assert r.status_code == 200, r.text
        assert_healthy(server, mark)


# -- unknown fields and wrong types on every body ----------------------------------------------


class TestShapes:
    @pytest.mark.parametrize("operation", [*OPERATIONS, "PUT app"])
    def test_an_unknown_field_is_400_naming_it(
        self, world: World, owned: Any, operation: str
    ) -> None:
        every = bodies(world, owned)
        if operation == "PUT app":
            operation = next(op for op in every if op.startswith("PUT /v1/apps/"))
        before = world.snapshot()
        r = send(world, operation, every[operation] | {"extra_field": 1})
        assert "not a known field" in error_of(r, 400, "extra_field")
        assert world.snapshot() == before

    @pytest.mark.parametrize(
        ("operation", "patch", "field"),
        [
            ("POST /v1/apps", {"name": 123}, "name"),
            ("POST /v1/apps", {"description": ["x"]}, "description"),
            ("POST /v1/api-groups", {"app_id": None}, "app_id"),
            ("POST /v1/apis", {"backend_timeout_ms": "5000"}, "backend_timeout_ms"),
            ("POST /v1/apis", {"method": 1}, "method"),
            ("POST /v1/app-auths", {"api_ids": "one"}, "api_ids"),
            ("POST /v1/tasks", {"max_retries": True}, "max_retries"),
            ("POST /v1/tasks", {"effective_time": 1700000000}, "effective_time"),
            ("POST /v1/tasks", {"request": "GET /"}, "request"),
            ("POST /v1/tasks", {"request": {"headers": {"X-A": "1"}}}, "request.headers"),
            ("PUT /v1/instance", {"params": {"app_secret": "false"}}, "params.app_secret"),
            ("POST /v1/cron/preview", {"count": 2.5}, "count"),
        ],
    )
    def test_a_wrong_type_is_400_naming_the_field(
        self, world: World, owned: Any, operation: str, patch: dict[str, Any], field: str
    ) -> None:
        body = bodies(world, owned)[operation] | patch
        before = world.snapshot()
        error_of(send(world, operation, body), 400, field)
        assert world.snapshot() == before

    @pytest.mark.parametrize("content", [b"[]", b"null", b'"text"', b"1", b""])
    def test_a_body_that_is_not_an_object_is_400_naming_the_body(
        self, world: World, content: bytes
    ) -> None:
        refused_raw(world, "POST", "/v1/tasks", content, 400, "body")


# -- injection ----------------------------------------------------------------------------------


class TestInjection:
    @pytest.mark.parametrize(
        "backend_url",
        [
            "\x01http://127.0.0.1:9/x",
            "http://127.0.0.1:9/x\x7f",
            "http://127.0.0.1:9/a\x0bb",
            "http://127.0.0.1:9/a\x1fb",
            "http://127.0.0.1:9/a\u2028b",
            "http://127.0.0.1:9/a\r\nHost: evil",
            "http://127.0.0.1:9/a b",
        ],
    )
    def test_a_backend_url_with_control_characters_or_spaces_is_400(
        self, world: World, owned: Any, backend_url: str
    ) -> None:
        body = bodies(world, owned)["POST /v1/apis"] | {"backend_url": backend_url}
        before = world.snapshot()
        message = error_of(send(world, "POST /v1/apis", body), 400, "backend_url")
        assert "control characters" in message
        assert world.snapshot() == before

    @pytest.mark.parametrize(
        "raw",
        [
            b"X-A: a\rb\r\n",  # a bare CR inside a value
            b"X-A: a\r\n b\r\n",  # an obsolete folded line
            b"X-\x00: 1\r\n",  # NUL in a name
            b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",  # a smuggling pair
            b"X-Big: " + b"a" * 20_000 + b"\r\n",
        ],
    )
    def test_a_malformed_request_to_the_gateway_is_400_and_reaches_no_backend(
        self, server: ApicronProcess, mark: int, world: World, backend: Backend, raw: bytes
    ) -> None:
        marker = backend.path()
        _, api = world.setup(auth_type="NONE", method="POST", path=f"/{unique('inj')}",
                             backend_url=backend.url(marker))
        head = f"POST {api['path']} HTTP/1.1\r\nHost: gw\r\n".encode()
        request = head + raw + b"Connection: close\r\n\r\n0\r\n\r\n"
        status, body = raw_http(server.gateway_port, request)
        assert status == 400, body
        assert not backend.to(marker)
        with httpx.Client(base_url=f"http://127.0.0.1:{server.gateway_port}") as gw:
            assert gw.post(api["path"]).status_code == 200  # the gateway carries on
        assert backend.to(marker)
        assert_healthy(server, mark)

    def test_a_malformed_credential_header_is_logged_as_one_line_without_its_value(
        self, server: ApicronProcess, mark: int
    ) -> None:
        secret = "s3cret-in-a-broken-header"
        status, _ = raw_http(
            server.gateway_port,
            f"GET /x HTTP/1.1\r\nHost: gw\r\nX-HW-AppKey: {secret}\rX\r\n\r\n".encode(),
        )
        assert status == 400
        wait_for(lambda: "malformed request refused" in server.log()[mark:], 10, "the log line")
        log = server.log()[mark:]
        assert "malformed request refused with 400: Missing expected LF" in log
        assert secret not in log
        assert_healthy(server, mark)

    def test_a_management_request_with_a_malformed_header_is_400(
        self, server: ApicronProcess, mark: int
    ) -> None:
        status, _ = raw_http(
            server.api_port,
            b"GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\nConnection: close\r\n\r\n",
        )
        assert status == 400
        assert_healthy(server, mark)


# -- traversal ----------------------------------------------------------------------------------


class TestTraversal:
    @pytest.mark.parametrize(
        "path",
        ["/x/%2e%2e/y", "/x/%2E./y", "/x/.%2e", "/x/%2e", "/x/a%zz", "/x/a%", "/x/%00",
         "/x/%0d%0aHost:%20evil"],
    )
    def test_an_api_path_with_encoded_dot_segments_or_bad_escapes_is_400(
        self, world: World, owned: Any, path: str
    ) -> None:
        body = bodies(world, owned)["POST /v1/apis"] | {"path": path}
        before = world.snapshot()
        error_of(send(world, "POST /v1/apis", body), 400, "path")
        assert world.snapshot() == before

    @pytest.mark.parametrize(
        "target",
        ["/v1/apps/..%2F..%2Fetc%2Fpasswd", "/v1/apps/%2e%2e", "/v1/tasks/..%5c..%5cwin.ini",
         "/v1/executions/%ff%fe"],
    )
    def test_traversal_in_a_management_path_is_404(
        self, client: httpx.Client, target: str
    ) -> None:
        r = client.get(target)
        assert r.status_code == 404, r.text
        assert r.json()["error_code"] == "NOT_FOUND"

    @pytest.mark.parametrize(
        ("target", "field"),
        [("/v1/executions/%00", "execution_id"), ("/v1/tasks/a%00b/executions", "task_id"),
         ("/v1/apps?name=%00", "name"), ("/v1/app-auths?app_id=x&api_id=%00", "api_id")],
    )
    def test_a_nul_in_a_path_or_query_parameter_is_400_naming_it(
        self, server: ApicronProcess, mark: int, client: httpx.Client, target: str, field: str
    ) -> None:
        assert "NUL" in error_of(client.get(target), 400, field)
        assert_healthy(server, mark)

    @pytest.mark.parametrize("target", [
        "/console/tasks/a%00b/edit", "/console/tasks/a%00b/history", "/console/tasks?name=%00",
    ])
    def test_a_nul_in_a_console_address_is_refused_not_a_crash(
        self, server: ApicronProcess, mark: int, target: str
    ) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as browser:
            console_login(browser)
            response = browser.get(target)
        assert response.status_code < 500, response.text[:300]
        assert_healthy(server, mark)

    def test_a_path_parameter_cannot_climb_out_of_the_backend_path(
        self, world: World, backend: Backend, server: ApicronProcess
    ) -> None:
        marker = backend.path()
        prefix = f"/{unique('files')}"
        world.setup(auth_type="NONE", method="GET", path=f"{prefix}/{{name}}",
                    backend_url=backend.url(f"{marker}/files/{{name}}"))
        with httpx.Client(base_url=f"http://127.0.0.1:{server.gateway_port}") as gw:
            assert gw.get(f"{prefix}/..%2F..%2Fadmin").status_code == 200
            for encoded in ("%2e%2e", ".%2E", "%2e"):
                assert gw.get(f"{prefix}/{encoded}").status_code == 404
        status, _ = raw_http(
            server.gateway_port,
            f"GET {prefix}/../../admin HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n".encode(),
        )
        assert status == 404
        assert [r.target for r in backend.to(marker)] == [f"{marker}/files/..%2F..%2Fadmin"]
