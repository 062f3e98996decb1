"""Instance, apps, API groups, APIs and grants through the real management API."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_task_rules import refused


class TestAuth:
    PROTECTED = (
        ("GET", "/v1/instance"), ("PUT", "/v1/instance"), ("GET", "/v1/apps"),
        ("POST", "/v1/apps"), ("GET", "/v1/apps/x"), ("DELETE", "/v1/apps/x"),
        ("POST", "/v1/apps/x/reset-secret"), ("GET", "/v1/api-groups"), ("GET", "/v1/apis"),
        ("POST", "/v1/apis/x/publish"), ("GET", "/v1/app-auths"), ("GET", "/v1/tasks"),
        ("POST", "/v1/tasks"), ("POST", "/v1/tasks/x/start"), ("POST", "/v1/cron/preview"),
    )

    @pytest.mark.parametrize(("method", "path"), PROTECTED)
    def test_it_needs_the_admin_token(
        self, server: ApicronProcess, method: str, path: str
    ) -> None:
        for token in (None, "wrong-token-wrong-token"):
            with server.client(token=token) as anonymous:
                r = anonymous.request(method, path, json={})
            assert r.status_code == 401, r.text
            assert r.json()["error_code"] == "UNAUTHORIZED"
            assert r.headers["www-authenticate"] == "Bearer"

    def test_healthz_needs_no_token(self, server: ApicronProcess) -> None:
        r = httpx.get(f"{server.url}/healthz")
        assert r.status_code == 200
        assert r.json()["status"] == "ok" and r.json()["database"] == "ok"

    def test_unknown_paths_answer_the_error_body(self, client: httpx.Client) -> None:
        r = client.get("/v1/nothing")
        assert r.status_code == 404 and r.json()["error_code"] == "NOT_FOUND"
        r = client.patch("/v1/tasks")
        assert r.status_code == 405 and r.json()["error_code"] == "METHOD_NOT_ALLOWED"

    def test_invalid_json_is_a_400_naming_the_body(self, client: httpx.Client) -> None:
        r = client.post("/v1/apps", content=b'{"name": ', headers={"Content-Type":
                                                                   "application/json"})
        assert r.status_code == 400 and r.json()["error_msg"].startswith("body")

    @pytest.mark.parametrize("body", [b'{"name": "ab\xff\xfecd"}', b"[" * 100_000 + b"]" * 100_000])
    def test_an_undecodable_body_is_a_400_naming_the_body(
        self, client: httpx.Client, body: bytes
    ) -> None:
        r = client.post("/v1/apps", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["error_code"] == "INVALID_INPUT"
        assert r.json()["error_msg"].startswith("body")

    def test_a_request_over_4_mib_is_413(self, client: httpx.Client) -> None:
        r = client.post("/v1/apps", content=b"x" * (4 * 1024 * 1024 + 1),
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error_code"] == "TOO_LARGE"


class TestInstance:
    def test_it_answers_the_contract_and_changes_only_given_fields(
        self, fresh_server: ApicronProcess
    ) -> None:
        with fresh_server.client() as client:
            instance = client.get("/v1/instance").json()
            assert instance == {
                "name": "apicron",
                "params": {"app_route": True, "app_secret": True, "replay_guard": False,
                           "unsigned_payload": True},
                "timezone": "UTC",
                "gateway_url": f"http://127.0.0.1:{fresh_server.gateway_port}",
                # Issue 14: the alert rules of tasks without their own (none by default).
                "default_alerts": None,
            }
            changed = client.put("/v1/instance", json={"timezone": "Asia/Shanghai"}).json()
            assert changed == {**instance, "timezone": "Asia/Shanghai"}
            changed = client.put("/v1/instance", json={"params": {"app_secret": False}}).json()
            assert changed["params"] == {"app_route": True, "app_secret": False,
                                         "replay_guard": False, "unsigned_payload": True}
            assert changed["timezone"] == "Asia/Shanghai"

    def test_it_refuses_bad_instance_values(self, fresh_server: ApicronProcess) -> None:
        with fresh_server.client() as client:
            world = World(client)
            before = world.snapshot()
            for body, field in (
                ({"timezone": "Nowhere/City"}, "timezone"),
                ({"params": {"app_route": "yes"}}, "params.app_route"),
                ({"params": {"app_route": None, "other": True}}, "params.other"),
                ({"name": "x"}, "name"),
                ({"gateway_url": "http://x"}, "gateway_url"),
            ):
                refused(world, client.put("/v1/instance", json=body), before, 400, field)

    def test_a_task_takes_the_instance_zone_by_default(self, fresh_server: ApicronProcess) -> None:
        with fresh_server.client() as client:
            world = World(client)
            client.put("/v1/instance", json={"timezone": "America/New_York"})
            task = world.task(*world.setup())
            assert task["timezone"] == "America/New_York"


class TestApps:
    def test_the_secret_is_shown_on_create_and_reset_only(self, world: World) -> None:
        app = world.app(description="billing")
        assert len(app["secret"]) >= 24 and len(app["key"]) == 32
        assert set(app) == {"id", "name", "description", "key", "secret", "created_at",
                            "updated_at"}
        shown = world.ok(world.client.get(f"/v1/apps/{app['id']}"))
        assert "secret" not in shown and shown["key"] == app["key"]
        listed = world.ok(world.client.get("/v1/apps", params={"name": app["name"]}))
        assert listed["total"] == 1 and "secret" not in listed["items"][0]
        reset = world.ok(world.client.post(f"/v1/apps/{app['id']}/reset-secret"))
        assert reset["secret"] != app["secret"] and reset["key"] == app["key"]

    def test_secrets_are_encrypted_at_rest(self, server: ApicronProcess, world: World) -> None:
        app = world.app()
        reset = world.ok(world.client.post(f"/v1/apps/{app['id']}/reset-secret"))
        url = server.env.get("APICRON_DATABASE_URL")
        if url is None:
            raw = b"".join(
                p.read_bytes() for p in server.data_dir.iterdir()
                if p.name.startswith("apicron.db")
            )
            with sqlite3.connect(server.data_dir / "apicron.db") as db:
                (stored,) = db.execute(
                    "SELECT secret_encrypted FROM apps WHERE id = ?", (app["id"],)
                ).fetchone()
        else:
            with psycopg.connect(url) as db:
                rows = db.execute("SELECT row_to_json(a)::text FROM apps a").fetchall()
                raw = "".join(r[0] for r in rows).encode()
                (stored,) = db.execute(  # type: ignore[misc]
                    "SELECT secret_encrypted FROM apps WHERE id = %s", (app["id"],)
                ).fetchone()
        assert app["key"].encode() in raw  # what was read is the live database
        assert app["secret"].encode() not in raw
        assert reset["secret"].encode() not in raw
        assert stored.startswith("gAAAAA")  # a Fernet token

    def test_secrets_never_reach_the_log(self, server: ApicronProcess, world: World) -> None:
        app = world.app()
        reset = world.ok(world.client.post(f"/v1/apps/{app['id']}/reset-secret"))
        log = server.log()
        assert app["secret"] not in log and reset["secret"] not in log
        assert "test-admin-token" not in log

    def test_private_files_are_mode_0600(self, server: ApicronProcess) -> None:
        if "APICRON_DATABASE_URL" in server.env:
            # PostgreSQL: the key comes from APICRON_SECRET_KEY, the data is in the server.
            assert not (server.data_dir / "secret.key").exists()
            assert not (server.data_dir / "apicron.db").exists()
            return
        for name in ("apicron.db", "secret.key"):
            assert (server.data_dir / name).stat().st_mode & 0o777 == 0o600, name
        assert server.data_dir.stat().st_mode & 0o777 == 0o700

    def test_it_refuses_duplicate_and_invalid_names(self, world: World) -> None:
        app = world.app()
        before = world.snapshot()
        r = world.client.post("/v1/apps", json={"name": app["name"]})
        refused(world, r, before, 409, "an integration app named")
        for name in ("1abc", "ab", "a b c"):
            refused(world, world.client.post("/v1/apps", json={"name": name}), before, 400,
                    "name")
        r = world.client.post("/v1/apps", json={"name": "valid_name", "description": "d" * 256})
        refused(world, r, before, 400, "description")

    def test_it_updates_name_and_description(self, world: World) -> None:
        app = world.app()
        name = unique("renamed")
        updated = world.ok(world.client.put(f"/v1/apps/{app['id']}",
                                            json={"name": name, "description": "new"}))
        assert updated["name"] == name and updated["description"] == "new"
        assert updated["key"] == app["key"]

    def test_an_app_owning_groups_or_tasks_cannot_be_deleted(self, world: World) -> None:
        owner = world.app()
        group = world.group(owner)
        before = world.snapshot()
        r = world.client.delete(f"/v1/apps/{owner['id']}")
        assert refused(world, r, before, 409, "integration app")["error_code"] == "APP_IN_USE"
        world.ok(world.client.delete(f"/v1/api-groups/{group['id']}"), 204)
        world.ok(world.client.delete(f"/v1/apps/{owner['id']}"), 204)
        assert world.client.get(f"/v1/apps/{owner['id']}").status_code == 404

    def test_an_app_with_tasks_on_granted_apis_cannot_be_deleted(self, world: World) -> None:
        owner, caller = world.app(), world.app()
        api = world.api(world.group(owner))
        world.grant(caller, api)
        world.task(caller, api)
        before = world.snapshot()
        r = world.client.delete(f"/v1/apps/{caller['id']}")
        refused(world, r, before, 409, "integration app", "1 scheduled task")


class TestGroupsAndApis:
    def test_a_group_gets_a_domain_and_its_apis_take_its_app(self, world: World) -> None:
        app = world.app()
        group = world.group(app, description="orders")
        assert group["domain"].startswith(group["id"]) and group["app_id"] == app["id"]
        api = world.api(group, publish=False)
        assert api["app_id"] == app["id"] and api["published"] is False
        assert api["published_at"] is None and api["backend_timeout_ms"] == 5000

    def test_publish_and_unpublish(self, world: World) -> None:
        _, api = world.setup()
        assert api["published"] is True and api["published_at"] is not None
        down = world.ok(world.client.post(f"/v1/apis/{api['id']}/unpublish"))
        assert down["published"] is False and down["published_at"] is None
        listed = world.ok(world.client.get("/v1/apis", params={"name": api["name"],
                                                               "published": True}))
        assert listed["total"] == 0

    def test_two_published_apis_cannot_share_method_and_path(self, world: World) -> None:
        app = world.app()
        group = world.group(app)
        path = f"/{unique('same')}/items/{{id}}"
        world.api(group, method="GET", path=path)
        twin = world.api(group, method="GET", path=path.replace("{id}", "{item}"),
                         backend_url="http://127.0.0.1:9/items/{item}", publish=False)
        before = world.snapshot()
        r = world.client.post(f"/v1/apis/{twin['id']}/publish")
        answer = refused(world, r, before, 409, "path", "already serves", "GET /")
        assert answer["error_code"] == "ROUTE_TAKEN" and f"GET {path}" in answer["error_msg"]
        other_method = world.api(group, method="PUT", path=path)
        assert other_method["published"] is True

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"path": "orders"}, "path"),
            ({"path": "/a/../b"}, "path"),
            ({"path": "/a/{id}/{id}"}, "path"),
            ({"path": "/a b"}, "path"),
            ({"method": "TRACE"}, "method"),
            ({"auth_type": "IAM"}, "auth_type"),
            ({"backend_url": "ftp://x/y"}, "backend_url"),
            ({"backend_url": "http://user:pw@127.0.0.1/x"}, "backend_url"),
            ({"backend_url": "http://169.254.169.254/latest/meta-data"}, "backend_url"),
            ({"backend_url": "http://[fe80::1]/x"}, "backend_url"),
            ({"backend_url": "http://[fd00:ec2::254]/x"}, "backend_url"),
            ({"backend_url": "http://0251.0376.0251.0376/x"}, "backend_url"),
            ({"backend_url": "http://127.0.0.1/{nope}"}, "backend_url"),
            ({"backend_timeout_ms": 60001}, "backend_timeout_ms"),
            ({"backend_timeout_ms": 0}, "backend_timeout_ms"),
        ],
    )
    def test_it_refuses_bad_api_fields(
        self, world: World, fields: dict[str, Any], field: str
    ) -> None:
        group = world.group(world.app())
        before = world.snapshot()
        body = {"group_id": group["id"], "name": unique("api"), "method": "GET",
                "path": "/x/{id}", "backend_url": "http://127.0.0.1:9/x/{id}", **fields}
        refused(world, world.client.post("/v1/apis", json=body), before, 400, field)

    def test_an_edit_is_validated_and_needs_a_new_publish(self, world: World) -> None:
        _, api = world.setup(backend_timeout_ms=1000)
        before = world.snapshot()
        r = world.client.put(f"/v1/apis/{api['id']}", json={"backend_timeout_ms": 70000})
        refused(world, r, before, 400, "backend_timeout_ms")
        edited = world.ok(world.client.put(f"/v1/apis/{api['id']}",
                                           json={"backend_timeout_ms": 2000}))
        assert edited["backend_timeout_ms"] == 2000
        assert edited["published_at"] == api["published_at"]
        again = world.ok(world.client.post(f"/v1/apis/{api['id']}/publish"))
        assert again["published_at"] >= api["published_at"]

    def test_groups_and_apis_in_use_cannot_be_deleted(self, world: World) -> None:
        app, api = world.setup()
        task = world.task(app, api)
        before = world.snapshot()
        refused(world, world.client.delete(f"/v1/api-groups/{api['group_id']}"), before, 409,
                "API group")
        refused(world, world.client.delete(f"/v1/apis/{api['id']}"), before, 409, "API",
                "unpublish")
        world.ok(world.client.post(f"/v1/apis/{api['id']}/unpublish"))
        before = world.snapshot()
        refused(world, world.client.delete(f"/v1/apis/{api['id']}"), before, 409, "API",
                "scheduled task")
        world.ok(world.client.delete(f"/v1/tasks/{task['id']}"), 204)
        world.ok(world.client.delete(f"/v1/apis/{api['id']}"), 204)
        world.ok(world.client.delete(f"/v1/api-groups/{api['group_id']}"), 204)


class TestGrants:
    def test_it_grants_lists_and_revokes(self, world: World) -> None:
        owner, caller = world.app(), world.app()
        group = world.group(owner)
        first, second = world.api(group), world.api(group)
        r = world.client.post("/v1/app-auths",
                              json={"app_id": caller["id"], "api_ids": [first["id"],
                                                                        second["id"]]})
        items = world.ok(r, 201)["items"]
        assert [g["api_id"] for g in items] == [first["id"], second["id"]]
        assert set(items[0]) == {"id", "app_id", "api_id", "created_at"}
        again = world.ok(world.client.post("/v1/app-auths", json={"app_id": caller["id"],
                                                                  "api_ids": [first["id"]]}),
                         201)
        assert again["items"][0]["id"] == items[0]["id"]
        listed = world.ok(world.client.get("/v1/app-auths", params={"app_id": caller["id"]}))
        assert listed["total"] == 2
        world.ok(world.client.delete(f"/v1/app-auths/{items[0]['id']}"), 204)
        assert world.client.delete(f"/v1/app-auths/{items[0]['id']}").status_code == 404
        listed = world.ok(world.client.get("/v1/app-auths", params={"app_id": caller["id"]}))
        assert [g["api_id"] for g in listed["items"]] == [second["id"]]

    def test_it_refuses_pointless_or_unknown_grants_all_or_nothing(self, world: World) -> None:
        owner, caller = world.app(), world.app()
        group = world.group(owner)
        good, none_auth = world.api(group), world.api(group, auth_type="NONE")
        before = world.snapshot()
        for body, field in (
            ({"app_id": caller["id"], "api_ids": [good["id"], none_auth["id"]]}, "api_ids[1]"),
            ({"app_id": caller["id"], "api_ids": [good["id"], "nope"]}, "api_ids[1]"),
            ({"app_id": owner["id"], "api_ids": [good["id"]]}, "api_ids[0]"),
            ({"app_id": "nope", "api_ids": [good["id"]]}, "app_id"),
            ({"app_id": caller["id"], "api_ids": []}, "api_ids"),
        ):
            refused(world, world.client.post("/v1/app-auths", json=body), before, 400, field)


class TestPreview:
    def test_it_describes_and_lists_third_fridays(self, client: httpx.Client) -> None:
        r = client.post("/v1/cron/preview", json={
            "trigger_type": "CRON", "cron_expression": "0 0 12 ? * 6#3",
            "effective_time": "2027-01-01T00:00:00Z", "timezone": "UTC", "count": 3,
        })
        assert r.status_code == 200, r.text
        body = r.json()
        assert "third Friday" in body["description"]
        assert body["next_fire_times"] == [
            "2027-01-15T12:00:00Z", "2027-02-19T12:00:00Z", "2027-03-19T12:00:00Z"
        ]

    def test_a_calendar_preview_starts_at_the_effective_time(self, client: httpx.Client) -> None:
        r = client.post("/v1/cron/preview", json={
            "trigger_type": "CALENDAR", "interval_unit": "MONTH", "interval_value": 1,
            "effective_time": "2027-01-31T09:00:00", "timezone": "Europe/Berlin", "count": 3,
        })
        assert r.status_code == 200, r.text
        assert r.json()["next_fire_times"] == [
            "2027-01-31T08:00:00Z", "2027-02-28T08:00:00Z", "2027-03-31T07:00:00Z"
        ]

    def test_it_marks_times_moved_by_dst(self, client: httpx.Client) -> None:
        r = client.post("/v1/cron/preview", json={
            "cron_expression": "0 30 2 * * ?", "timezone": "America/New_York",
            "effective_time": "2027-03-13T00:00:00Z", "count": 3,
        })
        times = r.json()["fire_times"]
        assert [t["dst_shifted"] for t in times] == [False, True, False]
        assert times[1]["at"] == "2027-03-14T07:00:00Z"

    @pytest.mark.parametrize(("body", "field"), [
        ({"cron_expression": "0 0 12 * * 6#3"}, "cron_expression"),
        ({"cron_expression": "* * * * * ?", "count": 101}, "count"),
        ({"cron_expression": "* * * * * ?", "timezone": "x"}, "timezone"),
        ({"trigger_type": "CALENDAR"}, "interval_unit"),
    ])
    def test_it_refuses_bad_previews(
        self, client: httpx.Client, body: dict[str, Any], field: str
    ) -> None:
        r = client.post("/v1/cron/preview", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["error_msg"].startswith(field)


def test_every_operation_in_the_openapi_document_needs_the_token(
    server: ApicronProcess,
) -> None:
    with server.client(token=None) as anonymous:
        document = anonymous.get("/openapi.json").json()
        operations = [
            (method.upper(), path.replace("{", "").replace("}", ""))
            for path, item in document["paths"].items()
            for method in item
        ]
        assert len(operations) >= 30
        for method, path in operations:
            r = anonymous.request(method, path, json={})
            expected = 200 if path in ("/healthz", "/livez", "/readyz") else 401
            assert r.status_code == expected, (method, path, r.text)
