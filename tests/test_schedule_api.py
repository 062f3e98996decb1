"""Issue 13 §3 through the real management API: preview warnings and DST notes, a task's
``schedule_warnings``, and a CALENDAR preview typed into a DST gap."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import World


def preview(client: httpx.Client, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/cron/preview", json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


class TestPreview:
    def test_a_numeric_quartz_day_of_week_is_warned_about(self, client: httpx.Client) -> None:
        body = preview(client, cron_expression="0 0 9 ? * 1-5", timezone="UTC")
        (warning,) = body["warnings"]
        assert "in Quartz 1 = Sunday" in warning and "Sunday through Thursday" in warning
        assert "Sunday through Thursday" in body["description"]

    def test_an_expression_without_surprises_has_no_warnings(self, client: httpx.Client) -> None:
        body = preview(client, cron_expression="0 0 9 ? * MON-FRI", timezone="UTC")
        assert body["warnings"] == []
        assert all(t["dst_note"] is None for t in body["fire_times"])

    def test_both_passes_of_a_repeated_hour_are_listed_and_marked(
        self, client: httpx.Client
    ) -> None:
        body = preview(
            client, cron_expression="*/30 * * * *", timezone="America/New_York",
            effective_time="2027-11-07T05:00:00Z", count=4,
        )
        assert body["next_fire_times"] == [
            "2027-11-07T05:00:00Z", "2027-11-07T05:30:00Z",
            "2027-11-07T06:00:00Z", "2027-11-07T06:30:00Z",
        ]
        notes = [t["dst_note"] for t in body["fire_times"]]
        assert all(note and "first pass" in note for note in notes[:2])
        assert all(note and "second pass" in note for note in notes[2:])
        assert [t["dst_shifted"] for t in body["fire_times"]] == [False] * 4

    def test_a_fixed_time_at_the_jump_is_marked(self, client: httpx.Client) -> None:
        body = preview(
            client, cron_expression="0 30 2 * * ?", timezone="America/New_York",
            effective_time="2027-03-13T00:00:00Z", count=3,
        )
        times = body["fire_times"]
        assert [t["dst_shifted"] for t in times] == [False, True, False]
        assert "at the jump" in times[1]["dst_note"]
        assert times[0]["dst_note"] is None

    def test_a_calendar_day_typed_into_a_gap_keeps_the_typed_wall_time(
        self, client: httpx.Client
    ) -> None:
        body = preview(
            client, trigger_type="CALENDAR", interval_unit="DAY", interval_value=1,
            effective_time="2027-03-28T02:30:00", timezone="Europe/Berlin", count=3,
        )
        assert body["next_fire_times"] == [
            "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z", "2027-03-30T00:30:00Z"
        ]
        assert [t["dst_shifted"] for t in body["fire_times"]] == [True, False, False]
        assert "at 02:30" in body["description"]


class TestTaskJson:
    def test_every_task_answer_carries_its_schedule_warnings(self, world: World) -> None:
        app, api = world.setup()
        task = world.task(app, api, cron_expression="0 0 12 ? * 6#3")
        (warning,) = task["schedule_warnings"]
        assert "6#3 is the third Friday" in warning
        client = world.client
        assert client.get(f"/v1/tasks/{task['id']}").json()["schedule_warnings"] == [warning]
        listed = client.get("/v1/tasks", params={"limit": 500}).json()["items"]
        assert [t["schedule_warnings"] for t in listed if t["id"] == task["id"]] == [[warning]]
        updated = world.ok(client.put(
            f"/v1/tasks/{task['id']}", json={"cron_expression": "0 0 12 ? * FRI#3"}
        ))
        assert updated["schedule_warnings"] == []
        started = world.ok(client.post(f"/v1/tasks/{task['id']}/start"))
        assert started["schedule_warnings"] == []
        world.ok(client.post(f"/v1/tasks/{task['id']}/stop"))

    @pytest.mark.parametrize("expression", ["0 0 * * 1-5", "0 0 12 ? * MON"])
    def test_unix_days_and_names_carry_none(self, world: World, expression: str) -> None:
        app, api = world.setup()
        assert world.task(app, api, cron_expression=expression)["schedule_warnings"] == []

    def test_a_calendar_task_typed_into_a_gap_keeps_the_typed_wall_time(
        self, world: World
    ) -> None:
        app, api = world.setup()
        task = world.task(
            app, api, trigger_type="CALENDAR", cron_expression=None, interval_unit="DAY",
            interval_value=1, effective_time="2027-03-28T02:30:00", timezone="Europe/Berlin",
        )
        assert task["effective_time"] == "2027-03-28T01:00:00Z"
        assert task["effective_wall"] == "2027-03-28T02:30:00"
        assert "at 02:30" in task["schedule_description"]
        # An edit of anything else keeps the wall time typed; a new effective time or
        # zone replaces it.
        edited = world.ok(world.client.put(f"/v1/tasks/{task['id']}",
                                           json={"description": "nightly"}))
        assert edited["effective_wall"] == "2027-03-28T02:30:00"
        assert "at 02:30" in edited["schedule_description"]
        moved = world.ok(world.client.put(f"/v1/tasks/{task['id']}",
                                          json={"effective_time": "2027-03-28T04:15:00Z"}))
        assert moved["effective_wall"] is None and "at 06:15" in moved["schedule_description"]
