"""Every seed and DESIGN.md task rule, through the real REST API on a real SQLite file.

Each refusal asserts the status, that error_msg names the field, and that nothing changed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import World, unique
from tests.servers import ApicronProcess


def refused(
    world: World, response: httpx.Response, before: Any, status: int, field: str, *words: str
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error_code", "error_msg"}
    assert body["error_msg"].startswith(field), body
    for word in words:
        assert word in body["error_msg"], body
    assert world.snapshot() == before
    return body


@pytest.fixture
def owned(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    return world.setup()


def create(world: World, owned: tuple[dict[str, Any], dict[str, Any]], **fields: Any) -> Any:
    app, api = owned
    before = world.snapshot()
    return before, world.client.post("/v1/tasks", json=world.task_body(app, api, **fields))


class TestTable1Fields:
    def test_it_creates_a_task_with_every_field_initialized(self, world: World, owned: Any) -> None:
        app, api = owned
        task = world.task(
            app,
            api,
            description="nightly order sync",
            effective_time="2027-01-01T00:00:00Z",
            end_time="2099-12-31T23:59:59Z",
            timezone="Europe/Berlin",
            max_retries=3,
            request={
                "headers": [{"name": "X-Tenant", "value": "acme"}],
                "query": [{"name": "tag", "value": "a"}, {"name": "tag", "value": "b"}],
                "body": {"content_type": "application/json", "content": '{"full": true}'},
            },
            misfire_policy="SKIP",
            overlap_policy="ALLOW",
        )
        assert task["status"] == "INITIALIZED"
        assert task["next_fire_time"] is None
        assert task["effective_time"] == "2027-01-01T00:00:00Z"
        assert task["timezone"] == "Europe/Berlin"
        assert task["max_retries"] == 3
        assert task["request"]["query"] == [
            {"name": "tag", "value": "a"}, {"name": "tag", "value": "b"}
        ]
        assert task["interval_unit"] is None and task["interval_value"] is None
        assert "third Friday" in task["schedule_description"]
        assert world.client.get(f"/v1/tasks/{task['id']}").json() == task

    @pytest.mark.parametrize("retries", [4, -1, "2", 1.5])
    def test_it_refuses_max_retries_outside_0_to_3(
        self, world: World, owned: Any, retries: Any
    ) -> None:
        before, r = create(world, owned, max_retries=retries)
        refused(world, r, before, 400, "max_retries")

    def test_it_accepts_every_max_retries_from_0_to_3(self, world: World, owned: Any) -> None:
        for retries in range(4):
            assert world.task(*owned, max_retries=retries)["max_retries"] == retries

    def test_it_refuses_cron_without_an_expression(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, cron_expression=None)
        refused(world, r, before, 400, "cron_expression", "required")

    def test_it_refuses_calendar_with_a_cron_expression(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, trigger_type="CALENDAR", interval_unit="DAY")
        refused(world, r, before, 400, "cron_expression", "CALENDAR")

    def test_it_refuses_calendar_without_an_interval_unit(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, trigger_type="CALENDAR", cron_expression=None)
        refused(world, r, before, 400, "interval_unit")

    def test_it_refuses_cron_with_an_interval(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, interval_unit="DAY")
        refused(world, r, before, 400, "interval_unit", "CRON")

    @pytest.mark.parametrize("unit", ["SECOND", "YEAR", "day", ""])
    def test_it_refuses_unknown_interval_units(self, world: World, owned: Any, unit: str) -> None:
        before, r = create(
            world, owned, trigger_type="CALENDAR", cron_expression=None, interval_unit=unit
        )
        refused(world, r, before, 400, "interval_unit")

    @pytest.mark.parametrize("value", [0, 60, -1])
    def test_it_refuses_interval_values_outside_1_to_59(
        self, world: World, owned: Any, value: int
    ) -> None:
        before, r = create(
            world, owned, trigger_type="CALENDAR", cron_expression=None, interval_unit="HOUR",
            interval_value=value,
        )
        refused(world, r, before, 400, "interval_value")

    def test_it_defaults_a_calendar_interval_to_1(self, world: World, owned: Any) -> None:
        task = world.task(*owned, trigger_type="CALENDAR", cron_expression=None,
                          interval_unit="WEEK")
        assert task["interval_value"] == 1
        assert task["cron_expression"] is None

    @pytest.mark.parametrize(
        "expression", ["0 0 12 * * 6#3", "0 60 * * * ?", "0 0 0 L-40 * ?", "0 0 12 ? * 6#6",
                       "1 2 3 4 5 6 7 8", "every day"]
    )
    def test_it_refuses_invalid_cron_expressions(
        self, world: World, owned: Any, expression: str
    ) -> None:
        before, r = create(world, owned, cron_expression=expression)
        refused(world, r, before, 400, "cron_expression")

    def test_it_refuses_an_unknown_trigger_type(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, trigger_type="RATE")
        refused(world, r, before, 400, "trigger_type")


class TestNamesAndDescriptions:
    @pytest.mark.parametrize("name", ["ab", "1task", "_task", "task name", "x" * 65, "tâche",
                                      ""])
    def test_it_refuses_names_breaking_the_rule(
        self, world: World, owned: Any, name: str
    ) -> None:
        before, r = create(world, owned, name=name)
        refused(world, r, before, 400, "name", "3-64 characters")

    def test_it_accepts_names_at_the_bounds(self, world: World, owned: Any) -> None:
        for name in ("abc", "a" + "b-_9" * 15 + "xyz"):
            assert world.task(*owned, name=name)["name"] == name

    def test_it_refuses_a_taken_name_with_409(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        before, r = create(world, owned, name=task["name"])
        refused(world, r, before, 409, "a task named")

    def test_it_refuses_a_description_over_255(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, description="d" * 256)
        refused(world, r, before, 400, "description", "255")
        assert world.task(*owned, description="d" * 255)["description"] == "d" * 255


class TestApiRules:
    def test_it_refuses_an_unpublished_api(self, world: World) -> None:
        app = world.app()
        api = world.api(world.group(app), publish=False)
        before = world.snapshot()
        r = world.client.post("/v1/tasks", json=world.task_body(app, api))
        refused(world, r, before, 400, "api_id", "not published")

    def test_it_refuses_an_unknown_api(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, api_id="0" * 32)
        refused(world, r, before, 400, "api_id", "no API")

    def test_it_refuses_another_apps_api_with_none_auth(self, world: World) -> None:
        owner, other = world.app(), world.app()
        api = world.api(world.group(owner), auth_type="NONE")
        before = world.snapshot()
        r = world.client.post("/v1/tasks", json=world.task_body(other, api))
        refused(world, r, before, 400, "api_id", "NONE")

    def test_it_accepts_its_own_none_auth_api(self, world: World) -> None:
        app = world.app()
        api = world.api(world.group(app), auth_type="NONE")
        assert world.task(app, api)["status"] == "INITIALIZED"

    def test_it_needs_a_grant_for_another_apps_app_auth_api(self, world: World) -> None:
        owner, other = world.app(), world.app()
        api = world.api(world.group(owner), auth_type="APP")
        before = world.snapshot()
        r = world.client.post("/v1/tasks", json=world.task_body(other, api))
        refused(world, r, before, 400, "api_id", "grant")
        world.grant(other, api)
        assert world.task(other, api)["status"] == "INITIALIZED"

    def test_it_refuses_to_start_after_the_grant_is_revoked(self, world: World) -> None:
        owner, other = world.app(), world.app()
        api = world.api(world.group(owner))
        grant = world.grant(other, api)
        task = world.task(other, api)
        world.ok(world.client.delete(f"/v1/app-auths/{grant['id']}"), 204)
        before = world.snapshot()
        r = world.client.post(f"/v1/tasks/{task['id']}/start")
        refused(world, r, before, 400, "api_id", "grant")

    def test_it_refuses_to_start_once_the_api_is_unpublished(
        self, world: World, owned: Any
    ) -> None:
        app, api = owned
        task = world.task(app, api)
        world.ok(world.client.post(f"/v1/apis/{api['id']}/unpublish"))
        before = world.snapshot()
        r = world.client.post(f"/v1/tasks/{task['id']}/start")
        refused(world, r, before, 400, "api_id", "not published")

    def test_it_judges_the_body_by_the_published_method_not_the_draft(
        self, world: World, owned: Any
    ) -> None:
        app, api = owned  # published as POST
        world.ok(world.client.put(f"/v1/apis/{api['id']}", json={"method": "GET"}))
        body = {"content_type": "application/text", "content": "hello"}
        task = world.task(app, api, request={"body": body})
        assert task["request"]["body"] == body
        world.ok(world.client.post(f"/v1/apis/{api['id']}/publish"))
        before = world.snapshot()
        r = world.client.post("/v1/tasks", json=world.task_body(app, api, request={"body": body}))
        refused(world, r, before, 400, "request.body", "POST, PUT or PATCH")


class TestRequestParameters:
    def test_it_refuses_a_body_on_get(self, world: World) -> None:
        app, api = world.setup(method="GET")
        before = world.snapshot()
        body = {"body": {"content_type": "application/json", "content": "{}"}}
        r = world.client.post("/v1/tasks", json=world.task_body(app, api, request=body))
        refused(world, r, before, 400, "request.body", "POST, PUT or PATCH", "GET")

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
    def test_it_accepts_a_body_on_post_put_patch(self, world: World, method: str) -> None:
        app, api = world.setup(method=method)
        body = {"content_type": "application/xml", "content": "<order id='1'><x/></order>"}
        assert world.task(app, api, request={"body": body})["request"]["body"] == body

    def test_it_refuses_xml_that_is_not_well_formed(self, world: World, owned: Any) -> None:
        body = {"content_type": "application/xml", "content": "<order><id>1</order>"}
        before, r = create(world, owned, request={"body": body})
        refused(world, r, before, 400, "request.body.content", "well-formed XML")

    def test_it_refuses_xml_with_entity_declarations(self, world: World, owned: Any) -> None:
        bomb = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
        before, r = create(
            world, owned, request={"body": {"content_type": "application/xml", "content": bomb}}
        )
        refused(world, r, before, 400, "request.body.content")

    def test_it_refuses_json_that_does_not_parse(self, world: World, owned: Any) -> None:
        body = {"content_type": "application/json", "content": '{"a": 1,}'}
        before, r = create(world, owned, request={"body": body})
        refused(world, r, before, 400, "request.body.content", "not valid JSON")

    def test_it_accepts_any_text_for_application_text(self, world: World, owned: Any) -> None:
        body = {"content_type": "application/text", "content": "{not json <not xml"}
        assert world.task(*owned, request={"body": body})["request"]["body"] == body

    @pytest.mark.parametrize("content_type", ["text/html", "application/x-www-form-urlencoded",
                                              "APPLICATION/JSON"])
    def test_it_refuses_other_content_types(
        self, world: World, owned: Any, content_type: str
    ) -> None:
        body = {"content_type": content_type, "content": "<p>hi</p>"}
        before, r = create(world, owned, request={"body": body})
        refused(world, r, before, 400, "request.body.content_type", "application/json")

    def test_it_refuses_a_body_over_1_mib_with_413(self, world: World, owned: Any) -> None:
        body = {"content_type": "application/text", "content": "x" * (1024 * 1024 + 1)}
        before, r = create(world, owned, request={"body": body})
        refused(world, r, before, 413, "request.body.content", "1 MiB")
        exact = {"content_type": "application/text", "content": "x" * (1024 * 1024)}
        assert world.task(*owned, request={"body": exact})["request"]["body"] == exact

    @pytest.mark.parametrize(
        "name",
        ["Host", "content-length", "Authorization", "X-HW-ID", "x-hw-appkey",
         "X-Apicron-Attempt", "x-apicron-anything"],
    )
    def test_it_refuses_reserved_header_names(self, world: World, owned: Any, name: str) -> None:
        before, r = create(world, owned, request={"headers": [{"name": name, "value": "v"}]})
        refused(world, r, before, 400, "request.headers[0].name", "reserved")

    @pytest.mark.parametrize("name", ["", "X Tenant", "X-Tenant:", "Tenant\r\n", "é", "a(b)"])
    def test_it_refuses_malformed_header_names(self, world: World, owned: Any, name: str) -> None:
        before, r = create(world, owned, request={"headers": [{"name": name, "value": "v"}]})
        refused(world, r, before, 400, "request.headers[0].name", "HTTP token")

    @pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb"])
    def test_it_refuses_header_values_with_cr_or_lf(
        self, world: World, owned: Any, value: str
    ) -> None:
        headers = [{"name": "X-Ok", "value": "1"}, {"name": "X-Tenant", "value": value}]
        before, r = create(world, owned, request={"headers": headers})
        refused(world, r, before, 400, "request.headers[1].value", "CR")

    def test_it_refuses_the_same_header_twice(self, world: World, owned: Any) -> None:
        headers = [{"name": "X-A", "value": "1"}, {"name": "x-a", "value": "2"}]
        before, r = create(world, owned, request={"headers": headers})
        refused(world, r, before, 400, "request.headers[1].name", "twice")

    def test_it_keeps_repeated_query_names_in_order(self, world: World, owned: Any) -> None:
        query = [{"name": "id", "value": "2"}, {"name": "id", "value": "1"},
                 {"name": "q", "value": "a b&c=d"}]
        assert world.task(*owned, request={"query": query})["request"]["query"] == query

    def test_path_parameters_take_their_value_from_parameters(self, world: World) -> None:
        app, api = world.setup(path=f"/{unique('pp')}/orders/{{region}}/{{id}}",
                               backend_url="http://127.0.0.1:9/o/{region}/{id}")
        before = world.snapshot()
        query = [{"name": "region", "value": "eu"}]
        r = world.client.post("/v1/tasks", json=world.task_body(app, api,
                                                                request={"query": query}))
        refused(world, r, before, 400, "request.query", "{id}")
        query.append({"name": "id", "value": "7"})
        assert world.task(app, api, request={"query": query})["request"]["query"] == query

    def test_it_refuses_unknown_fields(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, max_retry=2)
        refused(world, r, before, 400, "max_retry", "not a known field")


class TestTimes:
    def test_it_refuses_an_end_time_before_the_effective_time(
        self, world: World, owned: Any
    ) -> None:
        before, r = create(world, owned, effective_time="2027-02-01T00:00:00Z",
                           end_time="2027-01-01T00:00:00Z")
        refused(world, r, before, 400, "end_time", "after effective_time")

    def test_it_refuses_an_end_time_already_past(self, world: World, owned: Any) -> None:
        """Issue 13 §4: it was accepted, shown a Start button, and refused only at start."""
        before, r = create(world, owned, effective_time="2020-01-01T00:00:00Z",
                           end_time="2020-02-01T00:00:00Z", cron_expression="0 0 * * * ?")
        refused(world, r, before, 400, "end_time", "in the past", "2020-02-01T00:00:00Z")

    def test_it_refuses_an_end_time_before_the_next_fire_from_now(
        self, world: World, owned: Any
    ) -> None:
        # Fires in 2020 (after effective_time), but never again from now until end_time.
        before, r = create(world, owned, effective_time="2019-01-01T00:00:00Z",
                           cron_expression="0 0 12 1 1 ? 2020,2098",
                           end_time="2097-01-01T00:00:00Z")
        refused(world, r, before, 400, "end_time", "2098-01-01T12:00:00Z")

    def test_it_refuses_a_cron_expression_that_never_fires_again(
        self, world: World, owned: Any
    ) -> None:
        before, r = create(world, owned, effective_time="2019-01-01T00:00:00Z",
                           cron_expression="0 0 12 1 1 ? 2020")
        refused(world, r, before, 400, "cron_expression", "never fires again")

    def test_an_update_to_an_end_time_already_past_is_refused(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned, effective_time="2020-01-01T00:00:00Z")
        before = world.snapshot()
        r = world.client.put(f"/v1/tasks/{task['id']}", json={"end_time": "2020-06-01T00:00:00Z"})
        refused(world, r, before, 400, "end_time", "in the past")

    def test_it_refuses_an_unknown_time_zone(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, timezone="Mars/Olympus")
        refused(world, r, before, 400, "timezone")

    @pytest.mark.parametrize("value", ["tomorrow", 1767225600, "2027-13-01T00:00:00Z"])
    def test_it_refuses_effective_times_that_are_not_rfc3339(
        self, world: World, owned: Any, value: Any
    ) -> None:
        before, r = create(world, owned, effective_time=value)
        refused(world, r, before, 400, "effective_time")

    def test_it_reads_a_time_without_offset_in_the_task_zone(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned, effective_time="2027-07-01T09:30:00",
                          timezone="America/New_York")
        assert task["effective_time"] == "2027-07-01T13:30:00Z"

    def test_it_defaults_the_effective_time_to_now_and_the_zone_to_the_instance(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned)
        assert task["timezone"] == world.client.get("/v1/instance").json()["timezone"]
        assert task["effective_time"][:4] >= "2026"


class TestLifecycle:
    def test_it_starts_stops_and_resumes(self, world: World, owned: Any) -> None:
        task = world.task(*owned, cron_expression="0 0/5 * * * ?")
        started = world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        assert started["status"] == "STARTED"
        assert started["next_fire_time"].endswith(("0:00Z", "5:00Z"))
        stopped = world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop"))
        assert stopped["status"] == "STOPPED" and stopped["next_fire_time"] is None
        resumed = world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        assert resumed["status"] == "STARTED" and resumed["next_fire_time"] is not None

    def test_the_first_fire_is_not_before_the_effective_time(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned, trigger_type="CALENDAR", cron_expression=None,
                          interval_unit="DAY", effective_time="2027-03-01T08:00:00Z")
        started = world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        assert started["next_fire_time"] == "2027-03-01T08:00:00Z"

    def test_it_refuses_to_edit_or_delete_a_started_task(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        before = world.snapshot()
        r = world.client.put(f"/v1/tasks/{task['id']}", json={"description": "x"})
        assert refused(world, r, before, 409, "task")["error_code"] == "TASK_STARTED"
        r = world.client.delete(f"/v1/tasks/{task['id']}")
        assert refused(world, r, before, 409, "task", "stop it first")
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop"))
        world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={"description": "x"}))
        world.ok(world.client.delete(f"/v1/tasks/{task['id']}"), 204)
        assert world.client.get(f"/v1/tasks/{task['id']}").status_code == 404

    def test_it_refuses_to_stop_a_task_never_started(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        before = world.snapshot()
        refused(world, world.client.post(f"/v1/tasks/{task['id']}/stop"), before, 409, "task")

    def test_it_refuses_to_start_a_task_whose_end_time_passed_since(
        self, world: World, owned: Any
    ) -> None:
        end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        task = world.task(*owned, cron_expression="* * * * * ?",
                          end_time=end.isoformat().replace("+00:00", "Z"))
        while datetime.now(UTC) <= end + timedelta(seconds=1):
            time.sleep(0.2)
        before = world.snapshot()
        r = world.client.post(f"/v1/tasks/{task['id']}/start")
        refused(world, r, before, 409, "end_time", "no fire time left")

    def test_an_update_changes_only_given_fields_and_null_clears(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned, end_time="2030-01-01T00:00:00Z", max_retries=2)
        patch = {"trigger_type": "CALENDAR", "cron_expression": None, "interval_unit": "HOUR",
                 "interval_value": 6, "end_time": None}
        updated = world.ok(world.client.put(f"/v1/tasks/{task['id']}", json=patch))
        assert updated["trigger_type"] == "CALENDAR" and updated["interval_value"] == 6
        assert updated["end_time"] is None and updated["max_retries"] == 2
        assert updated["name"] == task["name"]

    def test_an_update_is_held_to_the_same_rules(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        before = world.snapshot()
        r = world.client.put(f"/v1/tasks/{task['id']}", json={"trigger_type": "CALENDAR"})
        refused(world, r, before, 400, "cron_expression", "CALENDAR")
        r = world.client.put(f"/v1/tasks/{task['id']}", json={"max_retries": 9})
        refused(world, r, before, 400, "max_retries")
        r = world.client.put(f"/v1/tasks/{task['id']}", json={"name": None})
        refused(world, r, before, 400, "name")

    def test_unknown_task_ids_are_404(self, world: World) -> None:
        for method, path in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/start"),
                             ("POST", "/stop")):
            r = world.client.request(method, f"/v1/tasks/nope{path}", json={})
            assert r.status_code == 404, (method, path, r.text)
            assert r.json()["error_code"] == "NOT_FOUND"


class TestInstanceParams:
    @pytest.mark.parametrize("param", ["app_route", "app_secret"])
    def test_it_refuses_create_and_start_while_a_param_is_off(
        self, fresh_server: ApicronProcess, param: str
    ) -> None:
        with fresh_server.client() as client:
            world = World(client)
            app, api = world.setup()
            task = world.task(app, api)
            world.ok(client.put("/v1/instance", json={"params": {param: False}}))
            before = world.snapshot()
            body = refused(world, client.post("/v1/tasks", json=world.task_body(app, api)),
                           before, 400, f"instance.params.{param}", "is off")
            assert body["error_code"] == "INSTANCE_PARAM_OFF"
            refused(world, client.post(f"/v1/tasks/{task['id']}/start"), before, 400,
                    f"instance.params.{param}")
            instance = world.ok(client.put("/v1/instance", json={"params": {param: True}}))
            assert instance["params"] == {"app_route": True, "app_secret": True,
                                          "replay_guard": False, "unsigned_payload": True}
            assert world.ok(client.post(f"/v1/tasks/{task['id']}/start"))["status"] == "STARTED"


class TestListing:
    def test_it_filters_by_name_status_and_app_and_pages(self, world: World) -> None:
        app, api = world.setup()
        stem = unique("Lst")
        names = [f"{stem}_{i}" for i in range(5)]
        tasks = [world.task(app, api, name=n) for n in names]
        world.ok(world.client.post(f"/v1/tasks/{tasks[0]['id']}/start"))
        page = world.ok(world.client.get("/v1/tasks", params={"name": stem.lower()}))
        assert page["total"] == 5 and {t["name"] for t in page["items"]} == set(names)
        started = world.ok(world.client.get("/v1/tasks", params={"name": stem,
                                                                 "status": "STARTED"}))
        assert [t["name"] for t in started["items"]] == [names[0]]
        by_app = world.ok(world.client.get("/v1/tasks", params={"app_id": app["id"]}))
        assert by_app["total"] == 5
        first = world.ok(world.client.get("/v1/tasks",
                                          params={"name": stem, "limit": 2, "offset": 0}))
        second = world.ok(world.client.get("/v1/tasks",
                                           params={"name": stem, "limit": 2, "offset": 2}))
        assert first["total"] == 5 and len(first["items"]) == 2 and len(second["items"]) == 2
        assert not {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}

    def test_a_name_filter_matches_like_wildcards_literally(self, world: World) -> None:
        assert world.ok(world.client.get("/v1/tasks", params={"name": "%"}))["total"] == 0

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"offset": -1},
                                        {"status": "RUNNING"}, {"limit": "ten"}])
    def test_it_refuses_bad_list_parameters(self, world: World, params: dict[str, Any]) -> None:
        r = world.client.get("/v1/tasks", params=params)
        assert r.status_code == 400, r.text
        assert r.json()["error_msg"].startswith(next(iter(params)))
