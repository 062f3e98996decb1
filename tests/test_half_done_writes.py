"""Create-then-something flows succeed or fail as one (issue 13 §4, "half-done writes").

``apicron api create … --publish`` used to create the API, then publish it in a second
request: a refused publish left the API created and a retry failed on its name. Now the
create (REST ``"publish": true``, the console's "Publish right away", the CLI) is one
transaction, and a route conflict names the API that holds the route. Run on SQLite and
PostgreSQL (the ``world`` fixture's server runs on both).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_cli import cli
from tests.test_secrets_leak import console_login
from tests.test_task_rules import refused


def api_body(group: dict[str, Any], path: str, **fields: Any) -> dict[str, Any]:
    return {
        "group_id": group["id"], "name": unique("api"), "method": "GET", "path": path,
        "backend_url": "http://127.0.0.1:9/x", **fields,
    }


def holder_and_twin(world: World) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A published API serving GET <path>, and a group to try the same route in."""
    group = world.group(world.app())
    path = f"/{unique('held')}/items/{{id}}"
    holder = world.api(group, method="GET", path=path)
    return holder, world.group(world.app()), path


def names_the_holder(message: str, holder: dict[str, Any]) -> None:
    assert holder["name"] in message and holder["id"] in message, message


class TestCreateAndPublish:
    def test_create_with_publish_answers_the_api_published(self, world: World) -> None:
        group = world.group(world.app())
        body = api_body(group, f"/{unique('p')}", publish=True)
        api = world.ok(world.client.post("/v1/apis", json=body), 201)
        assert api["published"] is True and api["published_at"] is not None
        served = world.ok(world.client.get("/v1/apis", params={"published": True,
                                                                "name": body["name"]}))
        assert [a["id"] for a in served["items"]] == [api["id"]]

    def test_a_refused_publish_creates_nothing_and_names_the_holder(
        self, world: World
    ) -> None:
        holder, group, path = holder_and_twin(world)
        body = api_body(group, path.replace("{id}", "{other}"), publish=True)
        before = world.snapshot()
        answer = refused(world, world.client.post("/v1/apis", json=body), before, 409, "path")
        names_the_holder(answer["error_msg"], holder)
        # the retry on a free route works with the same name: nothing was left behind
        retry = world.ok(world.client.post(
            "/v1/apis", json=body | {"path": f"/{unique('free')}"}), 201)
        assert retry["published"] is True and retry["name"] == body["name"]

    def test_publish_false_or_absent_creates_a_draft(self, world: World) -> None:
        _, group, path = holder_and_twin(world)
        for extra in ({}, {"publish": False}):
            draft = world.ok(world.client.post("/v1/apis", json=api_body(group, path, **extra)),
                             201)
            assert draft["published"] is False

    def test_publish_must_be_a_boolean(self, world: World) -> None:
        group = world.group(world.app())
        before = world.snapshot()
        r = world.client.post("/v1/apis", json=api_body(group, "/x", publish="yes"))
        refused(world, r, before, 400, "publish")

    def test_publishing_a_draft_on_a_held_route_names_the_holder(self, world: World) -> None:
        holder, group, path = holder_and_twin(world)
        draft = world.ok(world.client.post("/v1/apis", json=api_body(group, path)), 201)
        before = world.snapshot()
        answer = refused(world, world.client.post(f"/v1/apis/{draft['id']}/publish"), before,
                         409, "path")
        names_the_holder(answer["error_msg"], holder)
        assert answer["error_code"] == "ROUTE_TAKEN"

    def test_republishing_the_holder_itself_is_no_conflict(self, world: World) -> None:
        holder, _, _ = holder_and_twin(world)
        again = world.ok(world.client.post(f"/v1/apis/{holder['id']}/publish"))
        assert again["published"] is True


class TestUpdateAndPublish:
    def test_an_edit_with_publish_is_served_at_once(self, world: World) -> None:
        _, api = world.setup()
        edited = world.ok(world.client.put(
            f"/v1/apis/{api['id']}", json={"backend_timeout_ms": 1234, "publish": True}))
        assert edited["backend_timeout_ms"] == 1234 and edited["published"] is True
        assert edited["published_at"] >= api["published_at"]

    def test_an_edit_whose_publish_is_refused_changes_nothing(self, world: World) -> None:
        holder, group, path = holder_and_twin(world)
        other = world.api(group, method="GET", path=f"/{unique('mine')}")
        before = world.snapshot()
        r = world.client.put(f"/v1/apis/{other['id']}",
                             json={"path": path, "description": "moved", "publish": True})
        answer = refused(world, r, before, 409, "path")
        names_the_holder(answer["error_msg"], holder)


def console_csrf(browser: httpx.Client, page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(page).text)
    assert match
    return match[1]


def test_the_console_creates_and_publishes_as_one(
    server: ApicronProcess, world: World
) -> None:
    holder, group, path = holder_and_twin(world)
    name = unique("console")
    form = {"group_id": group["id"], "name": name, "method": "GET", "path": path,
            "auth_type": "APP", "backend_timeout_ms": "5000",
            "backend_url": "http://127.0.0.1:9/x", "description": "", "publish": "on"}
    before = world.snapshot()
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        console_login(browser)
        form["csrf_token"] = console_csrf(browser, "/console/apis/new")
        r = browser.post("/console/apis", data=form)
        assert r.status_code == 409, r.text[:300]
        assert holder["name"] in r.text and 'id="path-error"' in r.text
        assert world.snapshot() == before
        r = browser.post("/console/apis", data=form | {"path": f"/{unique('free')}"})
        assert r.status_code == 303, r.text[:300]
    created = world.ok(world.client.get("/v1/apis", params={"name": name}))["items"]
    assert [a["published"] for a in created] == [True]


def test_the_cli_creates_and_publishes_as_one(server: ApicronProcess, world: World) -> None:
    holder, group, path = holder_and_twin(world)
    name = unique("cli")
    args = ("api", "create", name, "--group", group["id"], "--method", "GET",
            "--backend-url", "http://127.0.0.1:9/x", "--publish")
    before = world.snapshot()
    result = cli(server, *args, "--path", path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert holder["name"] in result.stderr
    assert world.snapshot() == before
    result = cli(server, *args, "--path", f"/{unique('free')}")
    assert result.returncode == 0, result.stderr  # not "already has an API named …"
