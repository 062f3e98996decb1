"""Issue 18's scheduling fields in the console's Create/Edit Scheduled Task form, in a real
browser against a real server: a one-off (AT) task with its run_at and after_completion,
jitter, the call's own timeout and backoff, and business calendars; each read back through
REST, and a bad value refused at its field with nothing changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import World, unique
from tests.console_helpers import console_page, log_in, module_fixtures, nav
from tests.servers import ApicronProcess

ZONE = "Europe/Paris"
WALL = "%Y-%m-%dT%H:%M:%S"


console_server, browser, _state = module_fixtures("console-power", server="console_server")


@pytest.fixture(scope="module")
def page(browser: Browser, console_server: ApicronProcess) -> Iterator[Page]:
    with console_page(browser) as p:
        log_in(p, console_server)
        yield p


@pytest.fixture
def rest(console_server: ApicronProcess) -> Iterator[World]:
    with console_server.client() as client:
        yield World(client)


def _wall_in_days(days: int) -> datetime:
    """A wall time in ZONE, ``days`` ahead (far enough to never be past), at second 7 (a
    datetime-local input shows zero seconds as minutes only)."""
    return (datetime.now(ZoneInfo(ZONE)) + timedelta(days=days)).replace(
        second=7, microsecond=0, tzinfo=None)


def _utc_text(wall: datetime) -> str:
    return wall.replace(tzinfo=ZoneInfo(ZONE)).astimezone(ZoneInfo("UTC")).strftime(WALL)


def _start_form(page: Page, server: ApicronProcess, name: str, app: dict[str, Any]) -> None:
    page.goto(f"{server.url}/console/tasks/new")
    page.get_by_label("Task Name").fill(name)
    page.get_by_label("Integration Application").select_option(label=app["name"])
    page.get_by_label("Time zone").select_option(ZONE)


def _select_api(page: Page, api: dict[str, Any]) -> None:
    page.get_by_role("button", name="Select API").click()
    page.locator("#api-picker").get_by_role("button", name=f"Select {api['name']}").click()
    expect(page.locator("#api-picker")).to_be_hidden()


def _task_named(rest: World, name: str) -> dict[str, Any]:
    (task,) = rest.ok(rest.client.get("/v1/tasks", params={"name": name}))["items"]
    return task  # type: ignore[no-any-return]


def test_an_at_task_is_created_in_the_console_and_shown_on_its_page(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    name = unique("once")
    run_at = _wall_in_days(3)
    _start_form(page, console_server, name, app)
    page.get_by_role("radio", name="AT", exact=True).check()
    expect(page.get_by_label("Cron Expression")).to_be_hidden()
    expect(page.get_by_label("Business calendars")).to_be_hidden()
    page.get_by_label("Run At").fill(run_at.strftime(WALL))
    # The live preview shows the one fire time, in the task's zone.
    expect(page.locator("#preview-times li")).to_have_count(1)
    expect(page.locator("#preview-times li")).to_contain_text(
        run_at.strftime("%Y-%m-%d %H:%M:%S"))
    page.get_by_label("After its run").select_option("DELETE")
    _select_api(page, api)
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(name)

    task = _task_named(rest, name)
    assert task["trigger_type"] == "AT" and task["cron_expression"] is None
    assert task["run_at"].removesuffix("Z").removesuffix("+00:00") == _utc_text(run_at)
    assert task["after_completion"] == "DELETE"

    page.goto(f"{console_server.url}/console/tasks/{task['id']}")
    trigger = page.locator("#task-trigger")
    expect(trigger).to_contain_text("AT")
    expect(trigger).to_contain_text("once at")
    expect(trigger.locator("time")).to_have_attribute("data-zone", ZONE)
    expect(page.locator("#task-after-completion")).to_have_text("DELETE")
    expect(page.locator("#task-jitter")).to_have_text("none")
    expect(page.locator("#task-calendars")).to_have_count(0)


def test_editing_an_at_task_keeps_it_an_at_task_and_saves_a_new_run_at(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    first = _wall_in_days(2)
    task = rest.task(app, api, trigger_type="AT", cron_expression=None, timezone=ZONE,
                     run_at=first.strftime(WALL))
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/edit")
    expect(page.get_by_role("radio", name="AT", exact=True)).to_be_checked()
    # Shown as ISO 8601 with a space (never the browser's locale), seconds as set.
    expect(page.get_by_label("Run At")).to_have_value(first.strftime("%Y-%m-%d %H:%M:%S"))
    later = first + timedelta(days=1, hours=2)
    page.get_by_label("Run At").fill(later.strftime(WALL))
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text("saved")

    saved = rest.ok(rest.client.get(f"/v1/tasks/{task['id']}"))
    assert saved["trigger_type"] == "AT"
    assert saved["run_at"].removesuffix("Z").removesuffix("+00:00") == _utc_text(later)
    assert saved["after_completion"] == "KEEP"


def test_a_cron_task_with_jitter_timeout_backoff_and_a_calendar(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    calendar = rest.ok(rest.client.post("/v1/calendars", json={
        "name": unique("cal"), "exclude_weekdays": ["SAT", "SUN"]}), 201)
    rest.ok(rest.client.post("/v1/calendars", json={"name": unique("other")}), 201)
    name = unique("tuned")
    _start_form(page, console_server, name, app)
    page.get_by_role("radio", name="CRON", exact=True).check()
    page.get_by_label("Business calendars").select_option(label=calendar["name"])
    page.get_by_label("On an excluded day").select_option("NEXT")
    # Weekend runs only; the calendar excludes weekends and NEXT moves them to a weekday.
    # (The calendar is chosen first, so the preview's first answer already follows it.)
    page.get_by_label("Cron Expression").fill("0 0 9 ? * SAT,SUN")
    times = page.locator("#preview-times li")
    expect(times.first).to_be_visible()
    expect(page.locator("#preview-description")).to_contain_text(calendar["name"])
    expect(times.locator(".calendar-note").first).to_contain_text("SAT")
    for text in times.all_inner_texts():
        assert datetime.strptime(text[:10], "%Y-%m-%d").weekday() < 5, text
    page.get_by_text("More schedule options").click()
    page.get_by_label("Jitter (s)").fill("300")
    page.get_by_label("Jitter mode").select_option("STABLE")
    page.get_by_label("Call timeout (ms)").fill("10000")
    page.get_by_label("Retry backoff base (ms)").fill("500")
    page.get_by_label("Retry backoff cap (ms)").fill("30000")
    page.get_by_label("When runs were missed").select_option("SKIP")
    page.get_by_label("When the previous run is still going").select_option("BUFFER_ONE")
    _select_api(page, api)
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(name)

    task = _task_named(rest, name)
    assert task["trigger_type"] == "CRON" and task["run_at"] is None
    assert (task["jitter_s"], task["jitter_mode"]) == (300, "STABLE")
    assert task["timeout_ms"] == 10000
    assert (task["retry_backoff_base_ms"], task["retry_backoff_cap_ms"]) == (500, 30000)
    assert (task["calendar_ids"], task["calendar_policy"]) == ([calendar["id"]], "NEXT")
    assert (task["misfire_policy"], task["overlap_policy"]) == ("SKIP", "BUFFER_ONE")

    page.goto(f"{console_server.url}/console/tasks/{task['id']}")
    expect(page.locator("#task-jitter")).to_have_text("up to 300 s · STABLE")
    expect(page.locator("#task-timeout")).to_have_text("10000 ms")
    expect(page.locator("#task-backoff")).to_have_text("base 500 ms · cap 30000 ms")
    expect(page.locator("#task-calendars")).to_have_text(
        f"{calendar['name']} · on an excluded day: NEXT")
    # Its next fire times follow the calendar too (weekend runs moved to a weekday).
    listed = page.locator("#fire-times time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))")
    assert listed
    for stamp in listed:
        local = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(ZONE))
        assert local.weekday() < 5, stamp

    # The edit form shows them again, the calendar chosen by its name.
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/edit")
    expect(page.get_by_label("Jitter (s)")).to_have_value("300")
    expect(page.get_by_label("Jitter mode")).to_have_value("STABLE")
    expect(page.get_by_label("Call timeout (ms)")).to_have_value("10000")
    expect(page.get_by_label("Business calendars")).to_have_values([calendar["id"]])
    expect(page.get_by_label("On an excluded day")).to_have_value("NEXT")
    expect(page.get_by_label("When the previous run is still going")).to_have_value("BUFFER_ONE")


def test_bad_values_are_refused_at_their_fields_and_change_nothing(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    task = rest.task(app, api, jitter_s=60)
    before = rest.ok(rest.client.get(f"/v1/tasks/{task['id']}"))
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/edit")
    # A task with jitter shows its folded options unfolded.
    expect(page.locator("#more-schedule")).to_have_attribute("open", "")
    page.get_by_label("Jitter (s)").fill("999999")
    page.get_by_label("Retry backoff base (ms)").fill("0")
    page.get_by_label("Call timeout (ms)").fill("soon")
    page.get_by_role("button", name="OK").click()

    # All at once, each at its field; the folded options are open to show them.
    expect(page.locator("#fields-error")).to_contain_text("3 fields")
    expect(page.locator("#more-schedule")).to_have_attribute("open", "")
    expect(page.locator("#jitter_s-error")).to_contain_text("43200")
    expect(page.locator("#retry_backoff_base_ms-error")).to_be_visible()
    expect(page.locator("#timeout_ms-error")).to_be_visible()
    expect(page.get_by_label("Jitter (s)")).to_have_value("999999")
    assert rest.ok(rest.client.get(f"/v1/tasks/{task['id']}")) == before


def test_each_trigger_type_is_chosen_by_its_own_radio(
    page: Page, console_server: ApicronProcess
) -> None:
    """Each trigger radio is its own click target (AT, added last, once lay on top of CRON
    and CALENDAR, so a click on those radios checked AT), and shows its own fields."""
    page.goto(f"{console_server.url}/console/tasks/new")
    shown = {"CRON": "Cron Expression", "CALENDAR": "Every", "AT": "Run At"}
    for trigger in ("CALENDAR", "AT", "CRON", "AT", "CALENDAR"):
        page.get_by_role("radio", name=trigger, exact=True).check()
        expect(page.get_by_role("radio", name=trigger, exact=True)).to_be_checked()
        for other, label in shown.items():
            field = page.get_by_label(label, exact=True)
            if other == trigger:
                expect(field).to_be_visible()
            else:
                expect(field).to_be_hidden()
    # A person clicks on the segment's text (where the radio lies); the arrow keys move
    # between the radios.
    box = page.get_by_role("group", name="Trigger Type").get_by_text("AT", exact=True)\
        .bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_role("radio", name="AT", exact=True)).to_be_checked()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("radio", name="CALENDAR", exact=True)).to_be_checked()
    expect(page.get_by_label("Every", exact=True)).to_be_visible()


def test_an_at_task_runs_in_10_minutes_as_in_the_cli(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    """Run At also reads "in 10 minutes" (the CLI's --at rule): the preview shows the one
    fire time, and the saved run_at is ten minutes after the save."""
    app, api = rest.setup()
    name = unique("soon")
    _start_form(page, console_server, name, app)
    page.get_by_role("radio", name="AT", exact=True).check()
    page.get_by_label("Run At").fill("in 10 lightyears")
    # Every problem at once: the unreadable Run At and the API not chosen yet.
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#run_at-error")).to_contain_text("in 10 minutes")
    expect(page.locator("#api_id-error")).to_contain_text("is required")
    _select_api(page, api)
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#run_at-error")).to_contain_text("in 10 minutes")
    expect(page.get_by_label("Run At")).to_have_value("in 10 lightyears")
    assert rest.ok(rest.client.get("/v1/tasks", params={"name": name}))["items"] == []

    page.get_by_label("Run At").fill("in 10 minutes")
    expect(page.locator("#preview-times li")).to_have_count(1)
    before = datetime.now(UTC).replace(microsecond=0)
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(name)
    after = datetime.now(UTC)
    task = _task_named(rest, name)
    run_at = datetime.fromisoformat(task["run_at"].replace("Z", "+00:00"))
    assert before + timedelta(minutes=10) <= run_at <= after + timedelta(minutes=10)

    # The edit form shows it as a wall time in the task's zone, ISO 8601.
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/edit")
    shown = run_at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S")
    expect(page.get_by_label("Run At")).to_have_value(re.compile(
        re.escape(shown.removesuffix(":00")) + "(:00)?$"))
    expect(page.get_by_label("Effective Time")).to_have_value(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$"))


def test_business_calendars_are_kept_on_their_own_console_page(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    """Business Calendars (in the navigation): create, edit and delete through the same
    services and messages as REST /v1/calendars; a bad entry is refused at its field and
    creates nothing; a calendar a task follows is not deleted; the task form offers it by
    name."""
    name = unique("holidays")
    page.goto(f"{console_server.url}/console/tasks")
    nav(page, "Business Calendars")
    expect(page.get_by_role("heading", name="Business Calendars")).to_be_visible()
    page.get_by_role("link", name="Create Calendar").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("SAT", exact=True).check()
    page.get_by_label("SUN", exact=True).check()
    page.get_by_label("Public holidays: country").fill("Germany")
    page.get_by_label("Excluded dates").fill("2027-12-24..2027-12-31\n2027-13-01")
    page.get_by_label("Working days whatever else excludes them").fill("2027-12-28")
    page.get_by_role("button", name="OK").click()
    # Both problems at their fields, what was typed kept, nothing created.
    expect(page.locator("#holidays_country-error")).to_contain_text("ISO 3166-1")
    expect(page.locator("#exclude_dates-error")).to_contain_text("2027-13-01")
    expect(page.get_by_label("SAT", exact=True)).to_be_checked()
    assert rest.ok(rest.client.get("/v1/calendars", params={"name": name}))["items"] == []

    page.get_by_label("Public holidays: country").fill("DE")
    page.get_by_label("Subdivision (optional)").fill("BY")
    page.get_by_label("Excluded dates").fill("2027-12-24..2027-12-31")
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Calendar {name} created")
    row = page.locator(f'tr[data-calendar="{name}"]')
    expect(row).to_contain_text("excludes SAT, SUN")
    expect(row).to_contain_text("public holidays of DE-BY")
    (made,) = rest.ok(rest.client.get("/v1/calendars", params={"name": name}))["items"]
    assert made["exclude_weekdays"] == ["SAT", "SUN"]
    assert made["holidays"] == {"country": "DE", "subdivision": "BY"}
    assert (made["exclude_dates"], made["include_dates"]) == (
        ["2027-12-24..2027-12-31"], ["2027-12-28"])

    # Edit: Saturdays back, a description; the rest kept.
    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Public holidays: country")).to_have_value("DE")
    page.get_by_label("SAT", exact=True).uncheck()
    page.get_by_label("Description").fill("Bavarian office")
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Calendar {name} saved")
    edited = rest.ok(rest.client.get(f"/v1/calendars/{made['id']}"))
    assert edited["exclude_weekdays"] == ["SUN"] and edited["description"] == "Bavarian office"
    assert edited["holidays"] == made["holidays"]
    assert edited["exclude_dates"] == made["exclude_dates"]

    # The task form offers it by name; while a task follows it, it is not deleted.
    page.goto(f"{console_server.url}/console/tasks/new")
    page.get_by_label("Business calendars").select_option(label=name)
    app, api = rest.setup()
    task = rest.task(app, api, calendar_ids=[made["id"]])
    page.goto(f"{console_server.url}/console/calendars")
    row.get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(page.locator(".flash-error")).to_contain_text(task["name"])
    rest.ok(rest.client.get(f"/v1/calendars/{made['id']}"))
    assert rest.client.delete(f"/v1/tasks/{task['id']}").status_code in (200, 204)
    row.get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Calendar {name} deleted")
    expect(row).to_have_count(0)
    assert rest.client.get(f"/v1/calendars/{made['id']}").status_code == 404
