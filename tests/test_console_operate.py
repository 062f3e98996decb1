"""The console for operating (issue 15): the overview and the task page, in a real browser
against a real server and backend. One server, backend and browser for the module."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.conftest import World, unique
from tests.console_helpers import console_page, log_in, module_fixtures, screenshot
from tests.servers import ApicronProcess
from tests.test_engine_crash import parse, wait_for
from tests.test_gateway import Backend
from tests.threaded_server import ThreadedServer

# The machine is shared: start-up may take longer than the default wait.
server, browser, state = module_fixtures("operate", timeout=120)


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    b = Backend().start()
    yield b
    b.stop()


@pytest.fixture
def page(browser: Browser, state: StorageState) -> Iterator[Page]:
    with console_page(browser, state) as p:
        yield p


@pytest.fixture(scope="module")
def rest(server: ApicronProcess) -> Iterator[World]:
    with server.client() as client:
        yield World(client)


def run_and_wait(rest: World, task: dict[str, Any], times: int, together: bool = False) -> None:
    """``times`` manual runs, each waited for until it has finished before the next (so
    none is skipped as overlapping); ``together``: all queued at once, then waited for
    (some may end SKIPPED)."""
    def finished() -> bool:
        page = rest.ok(rest.client.get(f"/v1/tasks/{task['id']}/executions",
                                       params={"limit": 500}))
        return all(e["status"] not in ("PENDING", "RUNNING") for e in page["items"])

    for _ in range(times):
        rest.ok(rest.client.post(f"/v1/tasks/{task['id']}/run"), 202)
        if not together:
            wait_for(finished, 60, f"a run of {task['name']}")
    wait_for(finished, 60, f"{times} runs of {task['name']}")


@pytest.fixture(scope="module")
def runs(rest: World, backend: Backend) -> dict[str, dict[str, Any]]:
    """An app with a healthy and a failing API; a task on each with finished runs, and a
    Started task (on a cron firing about 30 min from now) with headers, query and body."""
    app, ok_api = rest.setup(backend_url=backend.url(backend.path()))
    failing_api = rest.api(rest.group(app), backend_url=backend.url("/status/503" + backend.path()))
    healthy = rest.task(app, ok_api, description="Posts the nightly orders")
    failing = rest.task(app, failing_api)
    run_and_wait(rest, healthy, 3)
    run_and_wait(rest, failing, 2)
    soon = datetime.now(UTC) + timedelta(minutes=30)
    started = rest.task(
        app, ok_api, cron_expression=f"0 {soon.minute} {soon.hour} * * ?", timezone="UTC",
        request={"headers": [{"name": "X-Tenant", "value": "acme-eu"}],
                 "query": [{"name": "region", "value": "eu west"}],
                 "body": {"content_type": "application/json", "content": '{"batch": 7}'}},
    )
    rest.ok(rest.client.post(f"/v1/tasks/{started['id']}/start"))
    return {"healthy": healthy, "failing": failing, "started": started, "app": app}


def rest_figures(rest: World) -> dict[str, str]:
    """The overview's figures computed from what REST lists."""
    tasks = rest.ok(rest.client.get("/v1/tasks", params={"limit": 500}))["items"]
    now = datetime.now(UTC)
    figures: dict[str, str] = {}
    for status in ("INITIALIZED", "STARTED", "STOPPED", "COMPLETED"):
        figures[f"count-{status}"] = str(sum(t["status"] == status for t in tasks))
    for hours in (24, 168):
        since = (now - timedelta(hours=hours)).isoformat()
        counts: Counter[str] = Counter()
        for task in tasks:
            page = rest.ok(rest.client.get(f"/v1/tasks/{task['id']}/executions",
                                           params={"from": since, "limit": 500}))
            assert page["total"] == len(page["items"])
            counts.update(e["status"] for e in page["items"])
        figures[f"succeeded-{hours}h"] = str(counts["SUCCEEDED"])
        figures[f"failed-{hours}h"] = str(counts["FAILED"])
        finished = counts["SUCCEEDED"] + counts["FAILED"]
        figures[f"rate-{hours}h"] = (
            f"{100 * counts['SUCCEEDED'] / finished:.1f} %" if finished else "—")
        if hours == 24:
            figures["missed-24h"] = str(counts["MISSED"])
            figures["skipped-24h"] = str(counts["SKIPPED"])
    alerts = rest.ok(rest.client.get("/v1/alerts", params={"status": "SENT", "limit": 500}))
    day_ago = now - timedelta(hours=24)
    figures["alerts-sent-24h"] = str(
        sum(parse(a["created_at"]) >= day_ago for a in alerts["items"]))
    return figures


def test_the_overview_figures_equal_what_rest_reports_and_a_click_finds_the_failure(
    page: Page, server: ApicronProcess, rest: World, runs: dict[str, dict[str, Any]]
) -> None:
    page.goto(f"{server.url}/console/instances")
    page.get_by_role("link", name="View Console").click()
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expected = rest_figures(rest)
    assert expected["failed-24h"] == "2" and expected["succeeded-24h"] == "3", expected
    for element_id, value in expected.items():
        expect(page.locator(f"#{element_id}")).to_have_text(value)
    # The started task fires once in the next hour, on the timeline.
    upcoming = page.locator(f'tr[data-upcoming="{runs["started"]["name"]}"]')
    expect(upcoming.locator(".timeline-mark")).to_have_count(1)
    screenshot(page, "overview")

    # It refreshes itself: a new failure shows without a reload.
    run_and_wait(rest, runs["failing"], 3)  # 2 + 3
    expect(page.locator("#failed-24h")).to_have_text("5", timeout=15_000)
    expect(page.locator("#overview")).to_have_attribute("data-refreshed-at", re.compile(".+"))

    # One click from the overview to the failing task, which says why it failed.
    failing = page.locator(f'tr[data-failing="{runs["failing"]["name"]}"]')
    expect(failing).to_contain_text("HTTP")
    expect(page.locator(f'tr[data-failing="{runs["healthy"]["name"]}"]')).to_have_count(0)
    failing.get_by_role("link", name=runs["failing"]["name"]).click()
    expect(page.get_by_role("heading", name=runs["failing"]["name"])).to_be_visible()
    expect(page.locator("#status-strip .strip-failed")).to_have_count(5)
    expect(page.locator("#task-rate")).to_contain_text("0.0 %")


def test_the_task_page_shows_a_started_task_whole_with_its_curl_and_no_secret(
    page: Page, server: ApicronProcess, rest: World, runs: dict[str, dict[str, Any]]
) -> None:
    started = runs["started"]
    page.goto(f"{server.url}/console/tasks")
    page.locator(f'tr[data-task="{started["name"]}"]').get_by_role(
        "link", name=started["name"]).click()
    expect(page.locator("#task-status")).to_have_text("Started")
    config = page.locator("#task-config")
    expect(config).to_contain_text("X-Tenant: acme-eu")
    expect(config).to_contain_text("region=eu west")
    expect(page.locator("#task-body")).to_have_text('{"batch": 7}')
    api = rest.ok(rest.client.get(f"/v1/apis/{started['api_id']}"))
    instance = rest.ok(rest.client.get("/v1/instance"))
    gateway_url = instance["gateway_url"].rstrip("/") + api["path"]
    expect(page.locator("#gateway-api-url")).to_have_text(gateway_url)
    curl = page.locator("#curl").inner_text()
    assert f"curl -X POST '{gateway_url}?region=eu%20west'" in curl
    assert f"X-HW-ID: {runs['app']['key']}" in curl and "X-HW-AppKey: <app secret>" in curl
    assert runs["app"]["secret"] not in page.content()
    # Schedule in words and ten fire times; Edit and Delete wait for a Stop.
    expect(page.locator("#fire-times li")).to_have_count(10)
    expect(page.locator("#schedule-words")).not_to_be_empty()
    expect(page.locator("#task-actions").get_by_role("button", name="Edit")).to_be_disabled()
    expect(page.locator("#task-actions").get_by_role("button", name="Stop")).to_be_enabled()
    screenshot(page, "task-page-started")


def test_the_chart_has_one_mark_per_run_and_the_strip_a_shape_per_status(
    page: Page, server: ApicronProcess, rest: World, runs: dict[str, dict[str, Any]]
) -> None:
    healthy = runs["healthy"]
    page.goto(f"{server.url}/console/tasks/{healthy['id']}")
    listed = rest.ok(rest.client.get(f"/v1/tasks/{healthy['id']}/executions",
                                     params={"limit": 50}))
    assert listed["total"] == 3
    expect(page.locator("#duration-chart .run-mark")).to_have_count(3)
    expect(page.locator("#duration-chart .mark-succeeded")).to_have_count(3)
    expect(page.locator("#status-strip li")).to_have_count(3)
    expect(page.locator("#status-strip li").first).to_contain_text("✓")
    expect(page.locator("#task-rate")).to_contain_text("100.0 %")
    expect(page.locator("#task-p50")).to_have_text(re.compile(r"^\d+(\.\d)? m?s$"))
    # The description is prose, not code.
    family = page.locator(".description").evaluate("e => getComputedStyle(e).fontFamily")
    assert "monospace" not in family
    screenshot(page, "task-page")


def test_history_filters_and_pages_back_to_the_oldest_run(
    page: Page, server: ApicronProcess, rest: World, backend: Backend,
    runs: dict[str, dict[str, Any]],
) -> None:
    app = runs["app"]
    api = rest.api(rest.group(app), backend_url=backend.url(backend.path()))
    busy = rest.task(app, api)
    run_and_wait(rest, busy, 23, together=True)
    listed = rest.ok(rest.client.get(f"/v1/tasks/{busy['id']}/executions",
                                     params={"limit": 500}))["items"]
    oldest, newest = listed[-1]["id"], listed[0]["id"]
    page.goto(f"{server.url}/console/tasks/{busy['id']}/history")
    rows = page.locator("#history-rows tr[data-execution]")
    expect(rows).to_have_count(20)
    expect(rows.first).to_have_attribute("data-execution", newest)
    expect(page.locator("#history-pager")).to_contain_text("23 execution(s) · page 1 of 2")
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(3)
    expect(rows.last).to_have_attribute("data-execution", oldest)
    expect(page.get_by_role("link", name="Older")).to_have_count(0)

    # Filters: trigger, status, and a date range in ISO days (the same form the table uses).
    failing = runs["failing"]
    page.goto(f"{server.url}/console/tasks/{failing['id']}/history")
    page.get_by_label("Status").select_option("FAILED")
    page.get_by_label("Trigger").select_option("SCHEDULE")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#history-rows .empty")).to_contain_text("No execution matches")
    page.get_by_label("Trigger").select_option("MANUAL")
    today = datetime.now(UTC).date()
    page.get_by_label("From (YYYY-MM-DD)").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("To (YYYY-MM-DD, included)").fill((today + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Filter").click()
    failed = rest.ok(rest.client.get(f"/v1/tasks/{failing['id']}/executions",
                                     params={"status": "FAILED"}))["total"]
    expect(page.locator('#history-rows tr[data-status="FAILED"]')).to_have_count(failed)
    page.get_by_label("From (YYYY-MM-DD)").fill("2026-13-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#from-error")).to_have_text("must be a date as YYYY-MM-DD")
    screenshot(page, "history")


SIZES = [(1280, 800), (1024, 768), (390, 844)]
# Whatever is wider than its box: the page, and every table wrapper (a table scrolled
# sideways in its wrapper hides columns just as a clipped one does).
OVERFLOWS = """() => {
  const bad = [];
  const doc = document.scrollingElement;
  if (doc.scrollWidth > doc.clientWidth) bad.push(`page ${doc.scrollWidth} > ${doc.clientWidth}`);
  document.querySelectorAll('.table-wrap').forEach((w, i) => {
    const t = w.querySelector('table');
    if (w.scrollWidth > w.clientWidth)
      bad.push(`table ${t && t.id || i} ${w.scrollWidth} > ${w.clientWidth}`);
  });
  return bad;
}"""
# The gap between the navigation's bottom and the page's heading (a blank band at 390 px).
GAP = """() => {
  const nav = document.querySelector('nav.sidenav').getBoundingClientRect();
  const main = document.querySelector('main').getBoundingClientRect();
  return nav.right <= main.left ? 0 : main.top - nav.bottom;
}"""


# Texts of the elements matched that break onto a new line inside a token: anywhere but
# after a / ? & or a space.
MID_TOKEN_BREAKS = """(elements) => elements.filter((el) => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let top = null, before = " ", node;
  while ((node = walker.nextNode())) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const at = range.getBoundingClientRect().top, ch = node.data[i];
      const between = /[\\/?&\\s]/.test(before) || /\\s/.test(ch);
      if (top !== null && at > top + 2 && !between) return true;
      top = at; before = ch;
    }
  }
  return false;
}).map((el) => el.textContent)"""


def test_nothing_overflows_its_box_at_three_sizes(
    browser: Browser, state: StorageState, server: ApicronProcess, rest: World,
    runs: dict[str, dict[str, Any]],
) -> None:
    started, failing = runs["started"], runs["failing"]
    long_url = "http://127.0.0.1:9/" + "/".join(["integration-orders-segment"] * 5) + (
        "?tenant=acme-europe-west&format=json-lines")
    rest.api(rest.group(runs["app"]), publish=False, backend_url=long_url)
    paths = [
        "/console/overview", "/console/tasks", f"/console/tasks/{started['id']}",
        f"/console/tasks/{failing['id']}", f"/console/tasks/{failing['id']}/history",
        "/console/tasks/new", "/console/instances", "/console/instance", "/console/apps",
        "/console/apis", "/console/alerts", "/console/channels", "/console/users",
        "/console/audit", "/console/account",
    ]
    found: list[str] = []
    tokens = 0
    for width, height in SIZES:
        with console_page(browser, state, width, height) as page:
            for path in paths:
                page.goto(f"{server.url}{path}")
                found.extend(f"{width}x{height} {path}: {b}" for b in page.evaluate(OVERFLOWS))
                gap = page.evaluate(GAP)
                if gap > 40:
                    found.append(f"{width}x{height} {path}: {gap:.0f} px blank under the nav")
                tokens += page.locator("code.cron, code.url").count()
                broken = page.locator("code.cron, code.url").evaluate_all(MID_TOKEN_BREAKS)
                found.extend(f"{width}x{height} {path}: wraps mid-token: {b}" for b in broken)
                wrapped_cron = page.locator("code.cron").evaluate_all(
                    "els => els.filter(e => e.getClientRects().length > 1).length")
                if wrapped_cron:
                    found.append(f"{width}x{height} {path}: a cron expression on two lines")
            if width == 390:
                page.goto(f"{server.url}/console/tasks/{failing['id']}/history")
                screenshot(page, "history-390")
    assert tokens >= 3 * 4, tokens  # crons and URLs on the task list, task page and APIs
    assert not found, "\n".join(found)


def test_descriptions_are_prose_not_code(page: Page, server: ApicronProcess) -> None:
    for path in ("/console/tasks/new", "/console/apps/new"):
        page.goto(f"{server.url}{path}")
        family = page.locator('textarea[name="description"]').evaluate(
            "e => getComputedStyle(e).fontFamily")
        assert "monospace" not in family, (path, family)


def test_times_show_in_the_zone_chosen_remembered_relative_with_the_exact_on_hover(
    browser: Browser, state: StorageState, server: ApicronProcess, rest: World,
    runs: dict[str, dict[str, Any]],
) -> None:
    api = rest.ok(rest.client.get(f"/v1/apis/{runs['healthy']['api_id']}"))
    # Fires at 12:00 New York time (17:00 UTC, 02:00 the next day in Tokyo) in winter.
    ny = rest.task(runs["app"], api, timezone="America/New_York",
                   cron_expression="0 0 12 ? * MON-FRI", effective_time="2031-01-01T00:00:00Z")
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  storage_state=state, timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        page.goto(f"{server.url}/console/tasks/{ny['id']}")
        first = page.locator("#fire-times time").first
        expect(first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d 12:00:00 (GMT-5|EST)$"))
        expect(first).to_have_attribute("title", re.compile(r"^in \d+ d$"))
        page.get_by_label("Show times in").select_option("utc")
        expect(first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d 17:00:00 UTC$"))
        page.reload()
        expect(page.get_by_label("Show times in")).to_have_value("utc")
        expect(first).to_have_text(re.compile(r"17:00:00 UTC$"))
        page.get_by_label("Show times in").select_option("browser")
        expect(first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d 02:00:00 GMT\+9$"))
        # The task list: how soon, with the exact time on hover.
        page.goto(f"{server.url}/console/tasks?q={runs['started']['name']}")
        soon = page.locator(f'tr[data-task="{runs["started"]["name"]}"] '
                            'td[data-label="Next fire time"] time')
        expect(soon).to_have_text(re.compile(r"^in \d+ min$"))
        expect(soon).to_have_attribute("title", re.compile(r"GMT\+9$"))
    finally:
        context.close()


def test_the_task_list_refreshes_itself(
    page: Page, server: ApicronProcess, rest: World, runs: dict[str, dict[str, Any]],
) -> None:
    api = rest.ok(rest.client.get(f"/v1/apis/{runs['healthy']['api_id']}"))
    task = rest.task(runs["app"], api)
    page.goto(f"{server.url}/console/tasks?q={task['name']}")
    row = page.locator(f'tr[data-task="{task["name"]}"]')
    expect(row.locator("[data-status]")).to_have_text("Initialized")
    expect(row).to_contain_text("never run")
    run_and_wait(rest, task, 1)
    expect(row).to_contain_text("Succeeded", timeout=15_000)
    expect(row.get_by_role("link", name=task["name"])).to_be_visible()


def test_the_favicon_is_served(server: ApicronProcess) -> None:
    answer = httpx.get(f"{server.url}/favicon.ico", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.text.startswith("<svg")


def test_the_create_form_shows_every_error_at_once(page: Page, server: ApicronProcess) -> None:
    page.goto(f"{server.url}/console/tasks/new")
    page.locator("#name").fill("bad name with spaces!")
    page.locator("#cron_expression").fill("not a cron")
    page.locator("#ok").click()
    for field in ("name", "app_id", "api_id", "cron_expression"):
        expect(page.locator(f"#{field}-error")).to_be_visible()


def test_edit_an_api_and_republish_the_gateway_serves_the_new_backend(
    page: Page, server: ApicronProcess, rest: World, backend: Backend,
    runs: dict[str, dict[str, Any]],
) -> None:
    old_path, new_path = backend.path(), backend.path()
    api = rest.api(rest.group(runs["app"]), auth_type="NONE", method="GET",
                   backend_url=backend.url(old_path))
    page.goto(f"{server.url}/console/apis")
    page.locator(f'tr[data-api="{api["name"]}"]').get_by_role("link", name="Edit").click()
    expect(page.locator("#api-changes")).to_contain_text("The draft is what the gateway serves")
    page.get_by_label("Backend URL").fill(backend.url(new_path))
    page.get_by_label("Republish: the gateway serves the edit at once").check()
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(
        f"republished (backend_url: {backend.url(old_path)} → {backend.url(new_path)})")
    gateway = rest.ok(rest.client.get("/v1/instance"))["gateway_url"].rstrip("/")
    assert httpx.get(gateway + api["path"], timeout=30).status_code == 200
    assert backend.to(new_path) and not backend.to(old_path)


def test_a_test_call_from_the_api_page_shows_the_backends_answer_and_no_secret(
    page: Page, server: ApicronProcess, rest: World, backend: Backend,
    runs: dict[str, dict[str, Any]],
) -> None:
    path = backend.path()
    api = rest.api(rest.group(runs["app"]), method="GET", backend_url=backend.url(path))
    granted, stranger = rest.app(), rest.app()
    rest.grant(granted, api)
    page.goto(f"{server.url}/console/apis/{api['id']}/edit")
    section = page.locator("#api-test-call")
    expect(section).to_contain_text(api["path"])
    callers = section.get_by_label("Call as app").locator("option").all_inner_texts()
    assert sorted(callers) == sorted([runs["app"]["name"], granted["name"]])
    assert stranger["name"] not in callers
    section.get_by_label("Call as app").select_option(label=granted["name"])
    section.get_by_role("button", name="Test call").click()
    expect(page.locator("#trial-status")).to_have_text("200 OK")
    expect(page.locator("#trial-headers")).to_contain_text("X-Backend")
    expect(page.locator("#trial-headers")).to_contain_text("echo")
    assert re.fullmatch(r"\d+ ms", page.locator("#trial-time").inner_text())
    assert '"ok": true' in page.locator("#trial-body").inner_text()
    assert len(backend.to(path)) == 1
    html = page.content()
    assert granted["key"] in html and "&lt;app secret&gt;" in html
    assert granted["secret"] not in html and runs["app"]["secret"] not in html


@pytest.mark.parametrize("kind", ["app", "group"])
def test_edit_an_app_or_group_and_a_bad_name_gets_rests_message_and_changes_nothing(
    page: Page, server: ApicronProcess, rest: World, kind: str,
    runs: dict[str, dict[str, Any]],
) -> None:
    if kind == "app":
        made, rest_path, list_page = rest.app(), "/v1/apps", "/console/apps"
    else:
        made, rest_path, list_page = rest.group(runs["app"]), "/v1/api-groups", "/console/apis"
    url = f"{rest_path}/{made['id']}"
    bad = rest.client.put(url, json={"name": "9 bad name"})
    assert bad.status_code == 400, bad.text
    rest_message = bad.json()["errors"][0]["message"]
    before = rest.ok(rest.client.get(url))
    page.goto(f"{server.url}{list_page}")
    page.locator(f'tr[data-{kind}="{made["name"]}"]').get_by_role("link", name="Edit").click()
    page.get_by_label("Name", exact=True).fill("9 bad name")
    page.get_by_label("Description").fill("Should not be kept")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#name-error")).to_have_text(rest_message)
    assert rest.ok(rest.client.get(url)) == before
    new_name = unique(f"renamed{kind}")
    page.get_by_label("Name", exact=True).fill(new_name)
    page.get_by_label("Description").fill("Orders of the night shift")
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"{new_name} saved.")
    after = rest.ok(rest.client.get(url))
    assert (after["name"], after["description"]) == (new_name, "Orders of the night shift")


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_the_task_forms_times_are_iso_whatever_the_browsers_locale(
    browser: Browser, state: StorageState, server: ApicronProcess, rest: World, locale: str,
) -> None:
    app, api = rest.setup()
    task = rest.task(app, api, timezone="UTC", effective_time="2031-01-02T03:04:00Z",
                     end_time="2031-06-07T08:09:30Z")
    context = browser.new_context(locale=locale, storage_state=state)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        assert page.evaluate("navigator.language") == locale
        page.goto(f"{server.url}/console/tasks/{task['id']}/edit")
        effective, end = page.get_by_label("Effective Time"), page.locator("#end_time")
        # A text field shows its value as it is: no locale's date picker in between.
        expect(effective).to_have_attribute("type", "text")
        expect(end).to_have_attribute("type", "text")
        expect(effective).to_have_value("2031-01-02 03:04")
        expect(end).to_have_value("2031-06-07 08:09:30")  # seconds kept when there are some
        effective.fill("2031-02-03 04:05")
        page.get_by_role("button", name="OK").click()
        expect(page.locator(".flash-ok")).to_be_visible()
    finally:
        context.close()
    saved = rest.ok(rest.client.get(f"/v1/tasks/{task['id']}"))
    assert parse(saved["effective_time"]) == datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    assert parse(saved["end_time"]) == datetime(2031, 6, 7, 8, 9, 30, tzinfo=UTC)


class LeakyBackend(ThreadedServer):
    """A backend that answers ``leak`` in a header and in its body (as a careless one
    echoing a credential it was given elsewhere would)."""

    def __init__(self) -> None:
        super().__init__()
        self.leak = ""

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(text=f'{{"echo": "{self.leak}"}}', headers={"X-Echo": self.leak})


def test_a_test_call_redacts_the_apps_secret_wherever_the_answer_echoes_it(
    page: Page, server: ApicronProcess, rest: World, runs: dict[str, dict[str, Any]],
) -> None:
    leaky = LeakyBackend().start()
    try:
        api = rest.api(rest.group(runs["app"]), method="GET",
                       backend_url=f"http://127.0.0.1:{leaky.port}/leak")
        leaky.leak = runs["app"]["secret"]
        page.goto(f"{server.url}/console/apis/{api['id']}/edit")
        page.get_by_role("button", name="Test call").click()
        expect(page.locator("#trial-status")).to_have_text("200 OK")
        expect(page.locator("#trial-body")).to_have_text('{"echo": "[REDACTED]"}')
        expect(page.locator("#trial-headers")).to_contain_text("[REDACTED]")
        assert runs["app"]["secret"] not in page.content()
    finally:
        leaky.stop()


# --- Issue 15, second look: path parameters, the real request, actions the service allows ---


def readme_shaped_api(rest: World, app: dict[str, Any], backend: Backend) -> dict[str, Any]:
    """Like the README's sync_orders: POST /…/orders/{region}/sync to /sync/{region}."""
    marker = backend.path()
    return rest.api(rest.group(app), method="POST", path=f"/{unique('p')}/orders/{{region}}/sync",
                    backend_url=backend.url(f"{marker}/sync/{{region}}"))


def test_a_test_call_fills_the_apis_path_parameters_and_checks_each_field(
    page: Page, server: ApicronProcess, rest: World, backend: Backend,
    runs: dict[str, dict[str, Any]],
) -> None:
    api = readme_shaped_api(rest, runs["app"], backend)
    marker = api["backend_url"].split("/sync/")[0].rsplit("/", 1)[1]
    page.goto(f"{server.url}/console/apis/{api['id']}/edit")
    section = page.locator("#api-test-call")
    # Every field wrong at once: each says what is wrong where it is.
    section.get_by_label("{region}").fill("")
    section.get_by_label("Query parameters").fill("full")
    section.get_by_label("Headers").fill("Authorization: x")
    section.get_by_label("Body", exact=True).fill("{not json")
    section.get_by_role("button", name="Test call").click()
    expect(page.locator('[id="trial-path-region-error"]')).to_contain_text("{region}")
    expect(page.locator("#trial-query-error")).to_contain_text("name=value")
    expect(page.locator("#trial-headers-error")).to_contain_text("reserved")
    expect(page.locator("#trial-body-error")).to_contain_text("JSON")
    assert not backend.to(marker)
    # Filled in, the call goes through the gateway to the backend's filled path.
    section = page.locator("#api-test-call")
    section.get_by_label("{region}").fill("eu west")
    section.get_by_label("Query parameters").fill("full=true")
    section.get_by_label("Headers").fill("X-Tenant: acme")
    section.get_by_label("Body", exact=True).fill('{"batch": 7}')
    section.get_by_role("button", name="Test call").click()
    expect(page.locator("#trial-status")).to_have_text("200 OK")
    got = backend.one(marker)
    assert got.target == f"/{marker.lstrip('/')}/sync/eu%20west?full=true"
    assert got.header("X-Tenant") == ["acme"] and got.body == b'{"batch": 7}'
    assert got.header("Content-Type") == ["application/json"]
    expect(page.locator("#trial-result")).to_contain_text(
        api["path"].replace("{region}", "eu%20west") + "?full=true")
    assert runs["app"]["secret"] not in page.content()


def test_the_task_page_shows_the_url_the_task_really_calls(
    page: Page, server: ApicronProcess, rest: World, backend: Backend,
    runs: dict[str, dict[str, Any]],
) -> None:
    api = readme_shaped_api(rest, runs["app"], backend)
    task = rest.task(runs["app"], api, request={
        "headers": [], "query": [{"name": "region", "value": "eu/west"},
                                 {"name": "full", "value": "true"}], "body": None})
    page.goto(f"{server.url}/console/tasks/{task['id']}")
    gateway = rest.ok(rest.client.get("/v1/instance"))["gateway_url"].rstrip("/")
    url = gateway + api["path"].replace("{region}", "eu%2Fwest")
    expect(page.locator("#gateway-api-url")).to_have_text(url)
    curl = page.locator("#curl").inner_text()
    assert f"curl -X POST '{url}?full=true'" in curl, curl
    assert "{region}" not in curl and "region=" not in curl
    assert runs["app"]["secret"] not in page.content()
    # What the engine sends is what the page shows.
    rest.ok(rest.client.post(f"/v1/tasks/{task['id']}/run"), 202)
    marker = api["backend_url"].split("/sync/")[0].rsplit("/", 1)[1]
    wait_for(lambda: bool(backend.to(marker)), 60, "the run")
    assert backend.one(marker).target.endswith("/sync/eu%2Fwest?full=true")


def offered(scope: Any, name: str) -> bool:
    """Whether ``scope`` offers the action ``name`` (an enabled button or link)."""
    controls = scope.get_by_role("button", name=name, exact=True).or_(
        scope.get_by_role("link", name=name, exact=True))
    return any(c.is_enabled() for c in controls.all())


# The actions each status allows, as the service decides (services.tasks): Start only
# when it would start (never a COMPLETED one-off whose run_at has passed), Stop only
# when STARTED, Edit and Delete unless STARTED; Run now, Clone and Backfill always.
ALLOWED = {
    "INITIALIZED": {"Start", "Edit", "Delete", "Run now", "Clone", "Backfill"},
    "STARTED": {"Stop", "Run now", "Clone", "Backfill"},
    "STOPPED": {"Start", "Edit", "Delete", "Run now", "Clone", "Backfill"},
    "COMPLETED": {"Edit", "Delete", "Run now", "Clone", "Backfill"},
}
ACTIONS = ("Start", "Stop", "Edit", "Delete", "Run now", "Clone", "Backfill")


def test_every_page_offers_only_the_actions_the_service_allows(
    page: Page, browser: Browser, server: ApicronProcess, rest: World, backend: Backend,
    runs: dict[str, dict[str, Any]],
) -> None:
    app, api = runs["app"], rest.api(rest.group(runs["app"]), backend_url=backend.url(
        backend.path()))
    prefix = unique("mx")
    by_status = {s: rest.task(app, api, name=f"{prefix}-{s.lower()}") for s in ALLOWED}
    rest.ok(rest.client.post(f"/v1/tasks/{by_status['STARTED']['id']}/start"))
    rest.ok(rest.client.post(f"/v1/tasks/{by_status['STOPPED']['id']}/start"))
    rest.ok(rest.client.post(f"/v1/tasks/{by_status['STOPPED']['id']}/stop"))
    rest.ok(rest.client.delete(f"/v1/tasks/{by_status['COMPLETED']['id']}"), 204)
    one_off = rest.task(app, api, name=f"{prefix}-completed", trigger_type="AT",
                        cron_expression=None, timezone="UTC",
                        run_at=(datetime.now(UTC) + timedelta(seconds=2)).isoformat())
    by_status["COMPLETED"] = one_off
    rest.ok(rest.client.post(f"/v1/tasks/{one_off['id']}/start"))
    wait_for(lambda: rest.ok(rest.client.get(f"/v1/tasks/{one_off['id']}"))["status"]
             == "COMPLETED", 60, "the one-off task to complete")
    # The service refuses to start it: so no page may offer it.
    assert rest.client.post(f"/v1/tasks/{one_off['id']}/start").status_code == 409
    page.goto(f"{server.url}/console/tasks?q={prefix}")
    for status, task in by_status.items():
        row = page.locator(f'tr[data-task="{task["name"]}"]')
        expect(row.locator("[data-status]")).to_have_attribute("data-status", status)
        shown = {a for a in ACTIONS if offered(row, a)}
        assert shown == ALLOWED[status] - {"Backfill"}, (status, "list", shown)
        page.goto(f"{server.url}/console/tasks/{task['id']}")
        shown = {a for a in ACTIONS if offered(page.locator("#task-actions"), a)}
        assert shown == ALLOWED[status], (status, "task page", shown)
        page.goto(f"{server.url}/console/tasks?q={prefix}")
    # Bulk: a dry run never offers to start what would be refused.
    page.goto(f"{server.url}/console/tasks/bulk")
    page.get_by_label("Action").select_option("start")
    page.get_by_label("Name starts with").fill(f"{prefix}-completed")
    page.get_by_role("button", name="Show the tasks").click()
    expect(page.locator("#bulk-summary")).to_contain_text("1 task(s) matched, 0 would start")
    expect(page.locator("#bulk-confirm")).to_have_count(0)
    # A viewer is offered none of the operator's actions, on either page.
    password = "viewer-pass-123456"
    viewer = rest.ok(rest.client.post("/v1/users", json={
        "username": unique("viewer"), "password": password, "role": "viewer"}), 201)
    with console_page(browser) as as_viewer:
        log_in(as_viewer, server, viewer["username"], password)
        for task in by_status.values():
            as_viewer.goto(f"{server.url}/console/tasks/{task['id']}")
            shown = {a for a in ACTIONS if offered(as_viewer.locator("#task-actions"), a)}
            assert shown == set(), ("viewer", shown)
