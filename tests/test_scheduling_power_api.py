"""Issue 18 through the real management API (SQLite and PostgreSQL): one-off tasks
(trigger AT), jitter and the task's own call policy. Each refusal is a 400 naming the
field and changes nothing; each field round-trips through create, update and read; the
preview lists an AT task's one fire time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import World


def _future(hours: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def owned(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    return world.setup()


def at_body(world: World, owned: Any, **fields: Any) -> dict[str, Any]:
    app, api = owned
    body = world.task_body(app, api, trigger_type="AT", run_at=_future(), **fields)
    del body["cron_expression"]
    return body


def refused(world: World, body: dict[str, Any], field: str, *words: str) -> None:
    before = world.snapshot()
    response = world.client.post("/v1/tasks", json=body)
    assert response.status_code == 400, response.text
    message = response.json()["error_msg"]
    assert message.startswith(field) or f"; {field}:" in message, message
    for word in words:
        assert word in message, message
    assert world.snapshot() == before


class TestOneOff:
    def test_it_creates_an_at_task_and_reads_it_back(self, world: World, owned: Any) -> None:
        run_at = _future()
        created = world.ok(world.client.post(
            "/v1/tasks", json={**at_body(world, owned), "run_at": run_at,
                               "after_completion": "DELETE"}), 201)
        assert created["trigger_type"] == "AT" and created["run_at"] == run_at
        assert created["after_completion"] == "DELETE"
        assert created["status"] == "INITIALIZED"
        assert created["schedule_description"].startswith("once, at ")
        started = world.ok(world.client.post(f"/v1/tasks/{created['id']}/start"))
        assert started["next_fire_time"] == run_at
        listed = world.ok(world.client.get("/v1/tasks", params={"status": "COMPLETED"}))
        assert created["id"] not in [t["id"] for t in listed["items"]]

    def test_a_naive_run_at_is_a_wall_time_in_the_tasks_zone(
        self, world: World, owned: Any
    ) -> None:
        created = world.ok(world.client.post("/v1/tasks", json={
            **at_body(world, owned), "run_at": "2030-07-01T09:30:00",
            "timezone": "Europe/Berlin"}), 201)
        assert created["run_at"] == "2030-07-01T07:30:00Z"

    def test_after_completion_defaults_to_keep(self, world: World, owned: Any) -> None:
        created = world.ok(world.client.post("/v1/tasks", json=at_body(world, owned)), 201)
        assert created["after_completion"] == "KEEP"

    def test_run_at_in_the_past_is_refused_naming_it(self, world: World, owned: Any) -> None:
        refused(world, {**at_body(world, owned), "run_at": "2020-01-01T00:00:00Z"},
                "run_at", "in the past")

    def test_run_at_is_required_for_at(self, world: World, owned: Any) -> None:
        body = at_body(world, owned)
        del body["run_at"]
        refused(world, body, "run_at", "required when trigger_type is AT")

    def test_other_triggers_fields_are_refused_with_at(self, world: World, owned: Any) -> None:
        refused(world, {**at_body(world, owned), "cron_expression": "0 0 9 * * ?"},
                "cron_expression", "absent when trigger_type is AT")
        refused(world, {**at_body(world, owned), "interval_unit": "DAY"},
                "interval_unit", "absent when trigger_type is AT")
        refused(world, {**at_body(world, owned), "end_time": _future(5)},
                "end_time", "absent when trigger_type is AT")

    def test_run_at_is_refused_with_another_trigger(self, world: World, owned: Any) -> None:
        app, api = owned
        refused(world, world.task_body(app, api, run_at=_future()), "run_at",
                "absent when trigger_type is CRON")

    def test_bad_after_completion_is_refused(self, world: World, owned: Any) -> None:
        refused(world, at_body(world, owned, after_completion="DROP"), "after_completion")

    def test_update_switches_a_cron_task_to_at_and_back(self, world: World, owned: Any) -> None:
        app, api = owned
        task = world.task(app, api)
        run_at = _future(3)
        changed = world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={
            "trigger_type": "AT", "cron_expression": None, "run_at": run_at}))
        assert (changed["trigger_type"], changed["run_at"]) == ("AT", run_at)
        back = world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={
            "trigger_type": "CRON", "cron_expression": "0 0 9 * * ?", "run_at": None}))
        assert (back["trigger_type"], back["run_at"]) == ("CRON", None)

    def test_preview_lists_the_one_fire_time(self, client: httpx.Client) -> None:
        run_at = _future()
        body = client.post("/v1/cron/preview", json={
            "trigger_type": "AT", "run_at": run_at, "timezone": "UTC", "count": 5})
        assert body.status_code == 200, body.text
        assert body.json()["next_fire_times"] == [run_at]
        assert body.json()["description"].startswith("once, at ")
        past = client.post("/v1/cron/preview", json={
            "trigger_type": "AT", "run_at": "2020-01-01T00:00:00Z", "timezone": "UTC",
            "effective_time": "2019-01-01T00:00:00Z"})
        assert past.status_code == 200, past.text
        assert past.json()["next_fire_times"] == []


class TestJitterAndCallPolicy:
    def test_the_fields_round_trip(self, world: World, owned: Any) -> None:
        app, api = owned
        fields = {"jitter_s": 900, "jitter_mode": "STABLE", "timeout_ms": 12000,
                  "retry_backoff_base_ms": 250, "retry_backoff_cap_ms": 8000}
        task = world.task(app, api, **fields)
        assert {k: task[k] for k in fields} == fields
        read = world.ok(world.client.get(f"/v1/tasks/{task['id']}"))
        assert {k: read[k] for k in fields} == fields
        changed = world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={
            "jitter_s": 0, "timeout_ms": None, "retry_backoff_cap_ms": None}))
        assert (changed["jitter_s"], changed["timeout_ms"]) == (0, None)
        assert (changed["retry_backoff_base_ms"], changed["retry_backoff_cap_ms"]) == (250, None)

    def test_the_defaults(self, world: World, owned: Any) -> None:
        app, api = owned
        task = world.task(app, api)
        assert (task["jitter_s"], task["jitter_mode"]) == (0, "RANDOM")
        assert task["timeout_ms"] is None
        assert task["retry_backoff_base_ms"] is None and task["retry_backoff_cap_ms"] is None

    @pytest.mark.parametrize(("field", "value"), [
        ("jitter_s", -1), ("jitter_s", 43201), ("jitter_s", "60"), ("jitter_mode", "WILD"),
        ("timeout_ms", 0), ("timeout_ms", 60001), ("retry_backoff_base_ms", 0),
        ("retry_backoff_cap_ms", 3_600_001),
    ])
    def test_out_of_bounds_values_are_refused_naming_the_field(
        self, world: World, owned: Any, field: str, value: Any
    ) -> None:
        app, api = owned
        refused(world, world.task_body(app, api, **{field: value}), field)

    def test_a_cap_below_the_base_is_refused(self, world: World, owned: Any) -> None:
        app, api = owned
        refused(world, world.task_body(app, api, retry_backoff_base_ms=5000,
                                       retry_backoff_cap_ms=1000),
                "retry_backoff_cap_ms", "at least retry_backoff_base_ms (5000 ms)")
        refused(world, world.task_body(app, api, retry_backoff_cap_ms=500),
                "retry_backoff_cap_ms", "at least the default base (1000 ms)")

    def test_an_execution_carries_planned_at(self, world: World, owned: Any) -> None:
        app, api = owned
        task = world.task(app, api)
        run = world.ok(world.client.post(f"/v1/tasks/{task['id']}/run"), 202)
        assert "planned_at" in run and run["planned_at"] is None  # a manual run
