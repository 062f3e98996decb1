"""Issue 18, organisation: tags, clone, bulk start/stop with a dry run, and a stop note,
through the real REST API (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, unique
from tests.test_task_rules import create, refused


@pytest.fixture
def owned(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    return world.setup()


def names(page: dict[str, Any]) -> set[str]:
    return {t["name"] for t in page["items"]}


class TestTags:
    def test_it_stores_and_answers_tags(self, world: World, owned: Any) -> None:
        task = world.task(*owned, tags={"env": "prod", "team/owner": "billing"})
        assert task["tags"] == {"env": "prod", "team/owner": "billing"}
        again = world.ok(world.client.get(f"/v1/tasks/{task['id']}"))
        assert again["tags"] == {"env": "prod", "team/owner": "billing"}

    def test_a_task_without_tags_has_an_empty_mapping(self, world: World, owned: Any) -> None:
        assert world.task(*owned)["tags"] == {}

    @pytest.mark.parametrize(("tags", "field", "word"), [
        ({"bad key": "x"}, "tags.bad key", "key"),
        ({"-env": "x"}, "tags.-env", "key"),
        ({"k" * 64: "x"}, "tags." + "k" * 64, "1-63"),
        ({"env": "pr od"}, "tags.env", "value"),
        ({"env": "v" * 64}, "tags.env", "63"),
        ({f"k{i}": "v" for i in range(21)}, "tags", "at most 20"),
    ])
    def test_it_refuses_bad_tags_naming_the_tag(
        self, world: World, owned: Any, tags: dict[str, str], field: str, word: str
    ) -> None:
        before, r = create(world, owned, tags=tags)
        refused(world, r, before, 400, field, word)

    def test_it_refuses_a_tag_value_that_is_not_text(self, world: World, owned: Any) -> None:
        before, r = create(world, owned, tags={"env": 1})
        refused(world, r, before, 400, "tags.env")

    def test_update_replaces_and_null_clears_the_tags(self, world: World, owned: Any) -> None:
        task = world.task(*owned, tags={"env": "prod"})
        changed = world.ok(world.client.put(f"/v1/tasks/{task['id']}",
                                            json={"tags": {"env": "dev", "tier": "2"}}))
        assert changed["tags"] == {"env": "dev", "tier": "2"}
        kept = world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={"max_retries": 1}))
        assert kept["tags"] == {"env": "dev", "tier": "2"}
        cleared = world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={"tags": None}))
        assert cleared["tags"] == {}

    def test_it_filters_by_tags_every_one_must_match(self, world: World, owned: Any) -> None:
        mark = unique("m")
        both = world.task(*owned, tags={"run": mark, "env": "prod"})
        one = world.task(*owned, tags={"run": mark, "env": "dev"})
        world.task(*owned, tags={"env": "prod"})
        page = world.ok(world.client.get("/v1/tasks", params=[("tag", f"run={mark}")]))
        assert names(page) == {both["name"], one["name"]}
        page = world.ok(world.client.get(
            "/v1/tasks", params=[("tag", f"run={mark}"), ("tag", "env=prod")]))
        assert names(page) == {both["name"]} and page["total"] == 1

    @pytest.mark.parametrize("bad", ["env", "bad key=x", "env=a b"])
    def test_it_refuses_a_malformed_tag_filter(self, world: World, bad: str) -> None:
        r = world.client.get("/v1/tasks", params={"tag": bad})
        assert r.status_code == 400, r.text
        assert r.json()["error_msg"].startswith("tag"), r.text

    def test_it_filters_by_name_prefix(self, world: World, owned: Any) -> None:
        prefix = unique("pre")
        task = world.task(*owned, name=f"{prefix}_a")
        world.task(*owned)
        page = world.ok(world.client.get("/v1/tasks", params={"name_prefix": prefix}))
        assert names(page) == {task["name"]}


class TestStopNote:
    def test_a_note_given_on_stop_is_shown_until_started_again(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned)
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        note = "paused: backend migration until Friday"
        stopped = world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop", json={"note": note}))
        assert (stopped["status"], stopped["stop_reason"]) == ("STOPPED", note)
        listed = world.ok(world.client.get("/v1/tasks", params={"name": task["name"]}))
        assert listed["items"][0]["stop_reason"] == note
        started = world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        assert started["stop_reason"] is None

    def test_a_stop_without_a_body_still_works(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        stopped = world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop"))
        assert (stopped["status"], stopped["stop_reason"]) == ("STOPPED", None)

    def test_the_note_of_a_stopped_task_can_be_changed(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop", json={"note": "first"}))
        again = world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop",
                                           json={"note": "until Monday"}))
        assert again["stop_reason"] == "until Monday"

    @pytest.mark.parametrize(("note", "word"), [("x" * 256, "255"), ("two\nlines", "one line")])
    def test_it_refuses_a_bad_note_and_keeps_the_task_started(
        self, world: World, owned: Any, note: str, word: str
    ) -> None:
        task = world.task(*owned)
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        r = world.client.post(f"/v1/tasks/{task['id']}/stop", json={"note": note})
        assert r.status_code == 400, r.text
        assert r.json()["error_msg"].startswith("note") and word in r.json()["error_msg"]
        assert world.ok(world.client.get(f"/v1/tasks/{task['id']}"))["status"] == "STARTED"
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop"))


class TestClone:
    def test_a_clone_copies_the_configuration_not_the_history(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(
            *owned, description="nightly", max_retries=2, tags={"env": "prod"},
            overlap_policy="ALLOW", misfire_policy="SKIP", timezone="Europe/Berlin",
            request={"headers": [{"name": "X-Tenant", "value": "acme"}],
                     "query": [{"name": "region", "value": "eu"}], "body": None},
        )
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/run"), 202)
        name = unique("copy")
        copy = world.ok(world.client.post(f"/v1/tasks/{task['id']}/clone", json={"name": name}),
                        201)
        assert copy["name"] == name and copy["id"] != task["id"]
        assert copy["status"] == "INITIALIZED" and copy["next_fire_time"] is None
        assert copy["last_execution"] is None
        for field in ("app_id", "api_id", "description", "trigger_type", "cron_expression",
                      "timezone", "max_retries", "request", "misfire_policy",
                      "overlap_policy", "tags", "effective_time", "end_time", "success",
                      "alerts"):
            assert copy[field] == task[field], field
        runs = world.ok(world.client.get(f"/v1/tasks/{copy['id']}/executions"))
        assert runs["total"] == 0
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/stop"))

    def test_a_clone_keeps_a_calendar_tasks_typed_wall_time(
        self, world: World, owned: Any
    ) -> None:
        task = world.task(*owned, trigger_type="CALENDAR", cron_expression=None,
                          interval_unit="DAY", effective_time="2030-03-31T02:30:00",
                          timezone="Europe/Berlin")
        copy = world.ok(world.client.post(f"/v1/tasks/{task['id']}/clone",
                                          json={"name": unique("copy")}), 201)
        assert copy["effective_time"] == task["effective_time"]
        assert copy["effective_wall"] == task["effective_wall"]

    def test_it_refuses_a_taken_or_bad_name(self, world: World, owned: Any) -> None:
        task = world.task(*owned)
        before = world.snapshot()
        r = world.client.post(f"/v1/tasks/{task['id']}/clone", json={"name": task["name"]})
        assert r.status_code == 409, r.text
        refused(world, world.client.post(f"/v1/tasks/{task['id']}/clone", json={"name": "1x"}),
                before, 400, "name")

    def test_it_answers_404_for_an_unknown_task(self, world: World) -> None:
        r = world.client.post("/v1/tasks/nope/clone", json={"name": unique("copy")})
        assert r.status_code == 404, r.text


class TestBulk:
    def tasks(self, world: World, owned: Any, mark: str, count: int) -> list[dict[str, Any]]:
        return [world.task(*owned, tags={"batch": mark}) for _ in range(count)]

    def test_a_dry_run_lists_what_would_change_and_changes_nothing(
        self, world: World, owned: Any
    ) -> None:
        mark = unique("b")
        made = self.tasks(world, owned, mark, 3)
        world.ok(world.client.post(f"/v1/tasks/{made[0]['id']}/start"))
        before = world.snapshot()
        result = world.ok(world.client.post("/v1/tasks/bulk/start", json={
            "filter": {"tags": {"batch": mark}}, "dry_run": True}))
        assert world.snapshot() == before
        assert (result["total"], result["changed"], result["failed"]) == (3, 0, 0)
        outcomes = {i["id"]: i["outcome"] for i in result["items"]}
        assert outcomes == {made[0]["id"]: "UNCHANGED", made[1]["id"]: "WOULD_CHANGE",
                            made[2]["id"]: "WOULD_CHANGE"}
        world.ok(world.client.post("/v1/tasks/bulk/stop",
                                   json={"filter": {"ids": [made[0]["id"]]}}))

    def test_it_starts_and_stops_by_filter_with_a_note(self, world: World, owned: Any) -> None:
        mark = unique("b")
        made = self.tasks(world, owned, mark, 3)
        started = world.ok(world.client.post("/v1/tasks/bulk/start", json={
            "filter": {"tags": {"batch": mark}}}))
        assert (started["total"], started["changed"]) == (3, 3)
        assert {i["status"] for i in started["items"]} == {"STARTED"}
        stopped = world.ok(world.client.post("/v1/tasks/bulk/stop", json={
            "filter": {"tags": {"batch": mark}, "status": "STARTED"}, "note": "migration"}))
        assert (stopped["total"], stopped["changed"]) == (3, 3)
        for task in made:
            now = world.ok(world.client.get(f"/v1/tasks/{task['id']}"))
            assert (now["status"], now["stop_reason"]) == ("STOPPED", "migration")

    def test_one_tasks_refusal_is_reported_and_the_others_still_change(
        self, world: World, owned: Any
    ) -> None:
        mark = unique("b")
        good = self.tasks(world, owned, mark, 2)
        app, _ = owned
        other_api = world.api(world.group(app))
        bad = world.task(app, other_api, tags={"batch": mark})
        world.ok(world.client.post(f"/v1/apis/{other_api['id']}/unpublish"))
        result = world.ok(world.client.post("/v1/tasks/bulk/start", json={
            "filter": {"tags": {"batch": mark}}}))
        assert (result["total"], result["changed"], result["failed"]) == (3, 2, 1)
        failed = [i for i in result["items"] if i["outcome"] == "FAILED"]
        assert failed[0]["id"] == bad["id"] and failed[0]["status"] == "INITIALIZED"
        assert "published" in failed[0]["error_msg"] and failed[0]["error_code"]
        for task in good:
            assert world.ok(world.client.get(f"/v1/tasks/{task['id']}"))["status"] == "STARTED"
        world.ok(world.client.post("/v1/tasks/bulk/stop",
                                   json={"filter": {"tags": {"batch": mark}}}))

    def test_it_filters_by_name_prefix_and_ids(self, world: World, owned: Any) -> None:
        prefix = unique("bp")
        a = world.task(*owned, name=f"{prefix}_a")
        b = world.task(*owned, name=f"{prefix}_b")
        result = world.ok(world.client.post("/v1/tasks/bulk/start", json={
            "filter": {"name_prefix": prefix, "ids": [b["id"]]}, "dry_run": True}))
        assert [i["id"] for i in result["items"]] == [b["id"]]
        assert a["id"] not in {i["id"] for i in result["items"]}

    @pytest.mark.parametrize(("body", "field"), [
        ({"filter": {}}, "filter"),
        ({"filter": {"tags": {"bad key": "x"}}}, "tags.bad key"),
        ({"filter": {"status": "RUNNING"}}, "filter.status"),
        ({"filter": {"ids": ["x"]}, "note": "y" * 300}, "note"),
        ({"filter": {"ids": ["x"]}, "dry_run": "yes"}, "dry_run"),
        ({}, "filter"),
    ])
    def test_it_refuses_a_bad_request_naming_the_field(
        self, world: World, body: dict[str, Any], field: str
    ) -> None:
        before = world.snapshot()
        r = world.client.post("/v1/tasks/bulk/stop", json=body)
        refused(world, r, before, 400, field)

    def test_a_note_on_a_bulk_start_is_refused(self, world: World) -> None:
        before = world.snapshot()
        r = world.client.post("/v1/tasks/bulk/start", json={
            "filter": {"ids": ["x"]}, "note": "why"})
        refused(world, r, before, 400, "note")
