"""Business calendars through the REST API of a real server (SQLite and PostgreSQL):
CRUD, the 400s naming each field (nothing changed), the 409 while tasks follow one, the
task fields calendar_ids / calendar_policy, the preview naming what each calendar entry
did, and the audit log (issue 18)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apicron.client import (
    Calendar,
    CalendarCreate,
    CalendarUpdate,
    Client,
    HolidaySource,
    InvalidInput,
    NotFound,
)
from tests.conftest import World, unique
from tests.servers import ADMIN_TOKEN, ApicronProcess


def calendar(world: World, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("cal"), **fields}
    return world.ok(world.client.post("/v1/calendars", json=body), 201)  # type: ignore[no-any-return]


def error_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    return [e["field"] for e in response.json()["errors"]]


def calendars(world: World) -> Any:
    return world.ok(world.client.get("/v1/calendars", params={"limit": 500}))


def test_a_calendar_is_created_read_changed_and_deleted(world: World) -> None:
    made = calendar(world, description="Bavarian working days",
                    exclude_dates=["2027-12-24..2027-12-31", "2027-08-15"],
                    exclude_weekdays=["SUN", "SAT", "SUN"],
                    holidays={"country": "DE", "subdivision": "BY"},
                    include_dates=["2027-12-27"])
    assert made["exclude_weekdays"] == ["SAT", "SUN"]  # week order, once each
    assert made["holidays"] == {"country": "DE", "subdivision": "BY"}
    assert made["exclude_dates"] == ["2027-12-24..2027-12-31", "2027-08-15"]
    assert set(made) >= {"id", "name", "exclude_dates", "exclude_weekdays", "holidays",
                         "include_dates", "created_at", "updated_at"}
    got = world.ok(world.client.get(f"/v1/calendars/{made['id']}"))
    assert got == made
    listed = world.ok(world.client.get("/v1/calendars", params={"name": made["name"]}))
    assert listed["total"] == 1 and listed["items"][0]["id"] == made["id"]
    changed = world.ok(world.client.put(f"/v1/calendars/{made['id']}",
                                        json={"holidays": None, "include_dates": []}))
    assert changed["holidays"] is None and changed["include_dates"] == []
    assert changed["exclude_dates"] == made["exclude_dates"]  # not given: kept
    world.ok(world.client.delete(f"/v1/calendars/{made['id']}"), 204)
    assert world.client.get(f"/v1/calendars/{made['id']}").status_code == 404


def test_bad_calendars_are_refused_naming_each_field_and_change_nothing(world: World) -> None:
    before = calendars(world)
    post = world.client.post
    assert error_fields(post("/v1/calendars", json={
        "name": unique("cal"), "holidays": {"country": "XX"}})) == ["holidays.country"]
    response = post("/v1/calendars", json={
        "name": unique("cal"), "holidays": {"country": "DE", "subdivision": "XX"}})
    assert error_fields(response) == ["holidays.subdivision"]
    assert "BY" in response.json()["error_msg"]
    assert set(error_fields(post("/v1/calendars", json={
        "name": unique("cal"), "exclude_dates": ["2027-12-31..2027-12-24"],
        "include_dates": ["tomorrow"], "exclude_weekdays": ["Sunday"]}))) == {
        "exclude_dates[0]", "include_dates[0]", "exclude_weekdays[0]"}
    assert error_fields(post("/v1/calendars", json={"name": unique("cal"),
                                                    "colour": "red"})) == ["colour"]
    made = calendar(world)
    response = post("/v1/calendars", json={"name": made["name"]})
    assert response.status_code == 409, response.text
    assert error_fields(world.client.put(f"/v1/calendars/{made['id']}",
                                         json={"holidays": {"country": "ZZ"}})) == [
        "holidays.country"]
    assert world.ok(world.client.get(f"/v1/calendars/{made['id']}")) == made
    after = calendars(world)
    assert after["total"] == before["total"] + 1


def test_a_task_keeps_its_calendars_and_policy(world: World) -> None:
    app, api = world.setup()
    first, second = calendar(world), calendar(world, exclude_weekdays=["SAT", "SUN"])
    task = world.task(app, api, calendar_ids=[first["id"], second["id"]],
                      calendar_policy="NEXT")
    assert task["calendar_ids"] == [first["id"], second["id"]]
    assert task["calendar_policy"] == "NEXT"
    assert task["schedule_description"].endswith(
        f"; on days excluded by calendar {first['name']}, {second['name']}: moved to the "
        "next included day")
    got = world.ok(world.client.get(f"/v1/tasks/{task['id']}"))
    assert (got["calendar_ids"], got["calendar_policy"]) == (task["calendar_ids"], "NEXT")
    changed = world.ok(world.client.put(f"/v1/tasks/{task['id']}",
                                        json={"description": "still calendared"}))
    assert changed["calendar_ids"] == task["calendar_ids"]
    cleared = world.ok(world.client.put(f"/v1/tasks/{task['id']}",
                                        json={"calendar_ids": [], "calendar_policy": "SKIP"}))
    assert cleared["calendar_ids"] == [] and cleared["calendar_policy"] == "SKIP"
    plain = world.task(app, api)
    assert plain["calendar_ids"] == [] and plain["calendar_policy"] == "SKIP"


def test_bad_task_calendar_fields_are_refused_naming_each_field(world: World) -> None:
    app, api = world.setup()
    made = calendar(world)
    before = world.snapshot()
    post = world.client.post
    assert error_fields(post("/v1/tasks", json=world.task_body(
        app, api, calendar_ids=[made["id"], "nope"]))) == ["calendar_ids[1]"]
    response = post("/v1/tasks", json=world.task_body(app, api,
                                                       calendar_ids=[made["id"], made["id"]]))
    assert error_fields(response) == ["calendar_ids"]
    assert "twice" in response.json()["error_msg"]
    assert error_fields(post("/v1/tasks", json=world.task_body(
        app, api, calendar_policy="LATER"))) == ["calendar_policy"]
    assert world.snapshot() == before


def test_a_calendar_tasks_follow_cannot_be_deleted(world: World) -> None:
    app, api = world.setup()
    made = calendar(world)
    task = world.task(app, api, calendar_ids=[made["id"]])
    response = world.client.delete(f"/v1/calendars/{made['id']}")
    assert response.status_code == 409, response.text
    assert response.json()["error_code"] == "CALENDAR_IN_USE"
    assert task["name"] in response.json()["error_msg"]
    world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={"calendar_ids": []}))
    world.ok(world.client.delete(f"/v1/calendars/{made['id']}"), 204)


def test_the_preview_says_which_entry_removed_or_moved_each_occurrence(world: World) -> None:
    germany = calendar(world, holidays={"country": "DE"})
    body = {"trigger_type": "CRON", "cron_expression": "0 0 9 * * ?",
            "timezone": "Europe/Berlin", "effective_time": "2027-12-23T00:00:00",
            "count": 4, "calendar_ids": [germany["id"]]}
    preview = world.ok(world.client.post("/v1/cron/preview", json=body))
    assert preview["next_fire_times"] == ["2027-12-23T08:00:00Z", "2027-12-24T08:00:00Z",
                                          "2027-12-27T08:00:00Z", "2027-12-28T08:00:00Z"]
    assert [c["text"] for c in preview["calendar_changes"]] == [
        "2027-12-25 skipped: Christmas Day (DE)",
        "2027-12-26 skipped: Second Day of Christmas (DE)"]
    assert preview["calendar_changes"][0]["calendar"] == germany["name"]
    assert preview["calendar_changes"][0]["action"] == "SKIPPED"
    weekly = {**body, "cron_expression": "0 0 9 ? * MON", "effective_time": "2027-03-20T00:00:00",
              "count": 2, "calendar_policy": "NEXT"}
    moved = world.ok(world.client.post("/v1/cron/preview", json=weekly))
    assert moved["next_fire_times"] == ["2027-03-22T08:00:00Z", "2027-03-30T07:00:00Z"]
    change = moved["calendar_changes"][0]
    assert change["text"] == "2027-03-29 moved to 2027-03-30: Easter Monday (DE)"
    assert (change["action"], change["moved_to"]) == ("MOVED", "2027-03-30T07:00:00Z")
    assert moved["fire_times"][1]["calendar_note"] == change["text"]
    assert moved["fire_times"][0]["calendar_note"] is None
    unknown = world.client.post("/v1/cron/preview", json={**body, "calendar_ids": ["nope"]})
    assert error_fields(unknown) == ["calendar_ids[0]"]


def test_calendar_changes_are_in_the_audit_log(world: World) -> None:
    made = calendar(world)
    world.ok(world.client.put(f"/v1/calendars/{made['id']}", json={"description": "x"}))
    world.ok(world.client.delete(f"/v1/calendars/{made['id']}"), 204)
    log = world.ok(world.client.get("/v1/audit", params={"resource_type": "calendar",
                                                         "limit": 500}))
    actions = [e["action"] for e in log["items"] if e["resource_id"] == made["id"]]
    assert sorted(actions) == ["create", "delete", "update"]


def test_the_python_client_has_every_calendar_operation(server: ApicronProcess) -> None:
    with Client(server.url, ADMIN_TOKEN) as apicron:
        made = apicron.create_calendar(CalendarCreate(
            name=unique("cal"), holidays=HolidaySource(country="CN"),
            exclude_weekdays=["SAT", "SUN"]))
        assert isinstance(made, Calendar) and made.holidays == HolidaySource(country="CN")
        assert [c.id for c in apicron.iter_calendars(name=made.name)] == [made.id]
        assert apicron.list_calendars(name=made.name).total == 1
        assert apicron.get_calendar(made.id) == made
        changed = apicron.update_calendar(made.id, CalendarUpdate(holidays=None))
        assert changed.holidays is None and changed.exclude_weekdays == ["SAT", "SUN"]
        # Built unchecked, as a client-only install builds it (it has not the holidays
        # library): in a process that imported the server, HolidaySource checks the
        # subdivision itself, and what is tested here is the server's refusal.
        unknown = CalendarCreate.model_construct(
            name=unique("cal"),
            holidays=HolidaySource.model_construct(country="DE", subdivision="XX"))
        with pytest.raises(InvalidInput) as caught:
            apicron.create_calendar(unknown)
        assert caught.value.field == "holidays.subdivision"
        apicron.delete_calendar(made.id)
        with pytest.raises(NotFound):
            apicron.get_calendar(made.id)
