"""Errors in apicron's own words, every problem at once (issue 19, "Errors").

The body stays ``{"error_code", "error_msg", "field"}`` (``field``: the first wrong field)
and adds ``"errors": [{"field", "message"}, …]``, every wrong field with its rule;
``error_msg`` names each as "field: rule". pydantic's wording ("Input should be …",
"Field required") never reaches a client, a time's rule shows an example, and a body that
is not JSON is told to be sent as JSON.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import World, unique
from tests.test_bad_input import OPERATIONS, bodies, send
from tests.test_task_rules import refused

# pydantic's own phrases: none may reach a client.
PYDANTIC_WORDING = ("Input should", "Field required", "Extra inputs", "valid dictionary",
                    "after validation", "Value error", "input is too short")


@pytest.fixture
def owned(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    return world.setup()


def problems(response: httpx.Response, status: int = 400) -> list[tuple[str, str]]:
    """The answer's ``errors`` as (field, message), checked against error_msg and field."""
    assert response.status_code == status, response.text
    body = response.json()
    listed = [(e["field"], e["message"]) for e in body["errors"]]
    assert body["field"] == listed[0][0]
    assert body["error_msg"] == "; ".join(f"{f}: {m}" for f, m in listed[:10]) + (
        f"; and {len(listed) - 10} more" if len(listed) > 10 else ""
    )
    for phrase in PYDANTIC_WORDING:
        assert phrase not in body["error_msg"], body
    return listed


class TestEveryProblemAtOnce:
    def test_a_request_missing_several_fields_lists_all_of_them(self, world: World) -> None:
        before = world.snapshot()
        r = world.client.post("/v1/tasks", json={})
        assert problems(r) == [
            ("name", "is required"), ("app_id", "is required"),
            ("trigger_type", "is required"), ("api_id", "is required"),
        ]
        assert r.json()["error_msg"] == (
            "name: is required; app_id: is required; trigger_type: is required; "
            "api_id: is required"
        )
        assert world.snapshot() == before

    def test_wrong_types_and_broken_rules_are_listed_together(
        self, world: World, owned: Any
    ) -> None:
        body = world.task_body(
            *owned, name="9lives", max_retries=7, trigger_type="cron",
            effective_time="2020", request={"headers": [{"name": "Host", "value": "x"}]},
        )
        before = world.snapshot()
        listed = dict(problems(world.client.post("/v1/tasks", json=body)))
        assert set(listed) == {"name", "max_retries", "trigger_type", "effective_time",
                               "request.headers[0].name"}
        assert "start with a letter" in listed["name"]
        assert listed["max_retries"] == "must be at most 3"
        assert listed["trigger_type"] == "must be one of 'CRON', 'CALENDAR' or 'AT' (got 'cron')"
        assert "2026-01-01T09:00:00Z" in listed["effective_time"]
        assert "reserved" in listed["request.headers[0].name"]
        assert world.snapshot() == before

    def test_a_bad_trigger_and_an_unpublished_api_are_listed_together(
        self, world: World, owned: Any
    ) -> None:
        app, _ = owned
        draft = world.api(world.group(app), publish=False)
        body = world.task_body(app, draft, effective_time="2019-01-01T00:00:00Z",
                               cron_expression="0 0 12 1 1 ? 2020")
        before = world.snapshot()
        r = world.client.post("/v1/tasks", json=body)
        listed = dict(problems(r))
        assert set(listed) == {"cron_expression", "api_id"}
        assert "never fires again" in listed["cron_expression"]
        assert "not published" in listed["api_id"]
        assert world.snapshot() == before

    def test_a_cron_syntax_error_is_listed_with_the_other_fields(
        self, world: World, owned: Any
    ) -> None:
        body = world.task_body(*owned, name="x", cron_expression="0 0 12 * * *",
                               timezone="Mars/Olympus", api_id="")
        listed = dict(problems(world.client.post("/v1/tasks", json=body)))
        assert set(listed) == {"name", "cron_expression", "timezone", "api_id"}
        assert "exactly one of them must be '?'" in listed["cron_expression"]
        assert listed["api_id"] == "is required"

    def test_one_problem_keeps_its_own_code(self, world: World, owned: Any) -> None:
        app, _ = owned
        draft = world.api(world.group(app), publish=False)
        r = world.client.post("/v1/tasks", json=world.task_body(app, draft))
        assert problems(r) == [("api_id", f"API {draft['name']!r} is not published; "
                                          "publish it first")]
        assert r.json()["error_code"] == "API_NOT_PUBLISHED"

    def test_query_parameters_are_listed_like_fields(self, client: httpx.Client) -> None:
        r = client.get("/v1/apps", params={"offset": "x", "limit": 0})
        assert problems(r) == [("offset", "must be a whole number (got 'x')"),
                               ("limit", "must be at least 1")]

    def test_a_refusal_without_a_field_has_no_error_list(self, client: httpx.Client) -> None:
        r = client.get("/v1/tasks/nope")
        assert r.status_code == 404 and "errors" not in r.json() and "field" not in r.json()


class TestApicronWording:
    @pytest.mark.parametrize("operation", OPERATIONS)
    def test_every_wrong_type_on_every_body_is_said_in_apicron_words(
        self, world: World, owned: Any, operation: str
    ) -> None:
        body = bodies(world, owned)[operation]
        wrong = {key: ({"x": 1} if isinstance(value, str) else "x")
                 for key, value in body.items()}
        for field, message in problems(send(world, operation, wrong)):
            assert message.startswith(("must be", "is ")), (field, message)

    @pytest.mark.parametrize(
        ("value", "shown"),
        # A date of the right shape that cannot exist (2027-13-01) says which part is wrong
        # instead: tests/test_impossible_dates.py.
        [("", "''"), ("2020", "'2020'"), ("1700000000", "'1700000000'"),
         ("tomorrow", "'tomorrow'")],
    )
    def test_a_time_that_is_not_rfc3339_is_refused_with_an_example(
        self, world: World, owned: Any, value: str, shown: str
    ) -> None:
        """Digits alone were read as a Unix timestamp: "2020" became 1970-01-01T00:33:40Z."""
        before, r = world.snapshot(), world.client.post(
            "/v1/tasks", json=world.task_body(*owned, effective_time=value))
        answer = refused(world, r, before, 400, "effective_time", "2026-01-01T09:00:00Z")
        assert f"(got {shown})" in answer["error_msg"]

    def test_a_missing_body_says_to_send_json(self, client: httpx.Client) -> None:
        r = client.post("/v1/apps")
        assert problems(r) == [
            ("body", "is required: send a JSON object with Content-Type: application/json")]


class TestNotJson:
    @pytest.mark.parametrize(
        ("content", "content_type"),
        [(b"name=abc", "application/x-www-form-urlencoded"),
         (b'{"name": "abcdef"}', "text/plain"),
         (b'{"name": "abcdef"}', "application/x-www-form-urlencoded"),
         (b"--b\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b")],
    )
    def test_a_body_that_is_not_json_is_415_saying_send_json(
        self, world: World, content: bytes, content_type: str
    ) -> None:
        before = world.snapshot()
        r = world.client.post("/v1/apps", content=content, headers={"Content-Type": content_type})
        assert r.status_code == 415, r.text
        body = r.json()
        assert body["error_code"] == "UNSUPPORTED_MEDIA_TYPE" and body["field"] == "body"
        assert "send JSON with Content-Type: application/json" in body["error_msg"]
        assert content_type.split(";")[0] in body["error_msg"]
        assert world.snapshot() == before

    def test_json_sent_without_a_content_type_is_415_saying_so(self, world: World) -> None:
        before = world.snapshot()
        request = world.client.build_request("POST", "/v1/apps", content=b'{"name": "abcd"}')
        assert "Content-Type" not in request.headers
        r = world.client.send(request)
        assert r.status_code == 415, r.text
        assert "sent without a Content-Type" in r.json()["error_msg"]
        assert world.snapshot() == before

    @pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                              "application/merge-patch+json"])
    def test_json_is_read_under_any_json_media_type(
        self, world: World, content_type: str
    ) -> None:
        content = f'{{"name": "{unique("app")}"}}'.encode()
        r = world.client.post("/v1/apps", content=content, headers={"Content-Type": content_type})
        assert r.status_code == 201, r.text

    def test_a_form_to_an_operation_without_a_body_is_not_refused(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned)
        r = world.client.post(f"/v1/tasks/{task['id']}/start", content=b"x=1",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200, r.text


def test_the_openapi_document_describes_the_error_list_and_415(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    error_body = document["components"]["schemas"]["ErrorBody"]["properties"]
    assert {"error_code", "error_msg", "field", "errors"} <= set(error_body)
    assert "415" in document["paths"]["/v1/tasks"]["post"]["responses"]
