"""An accessibility scan of every console page (issue 15): axe-core (npm, test-only, in
``tests/axe``; never from a CDN) injected into each page in Debian's chromium, with real
data on the pages; every violation of impact serious or critical fails the test.

The pages are enumerated from the console's routers, so a new page cannot be left out:
each GET route is either visited (its ids filled from the data made here) or named in
``NOT_PAGES`` with the reason it is not a page of its own.

Every page is scanned at each of the issue's sizes (``SIZES``), in one browser with one
signed-in state: one tab per size, the three loaded and scanned side by side (axe runs in
each tab's own renderer, so the scans share the cores instead of queueing), axe injected
by the context rather than once more per page, and collecting only violations
(``resultTypes``), the results this test reads.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page, StorageState, expect

import apicron.console
from tests.alert_helpers import WebhookReceiver
from tests.conftest import World, unique
from tests.console_helpers import module_fixtures
from tests.servers import ApicronProcess
from tests.test_console_operate import run_and_wait
from tests.test_engine_crash import wait_for
from tests.test_gateway import Backend

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Issue 15: desktop, small laptop, phone.
SIZES = ((1280, 800), (1024, 768), (390, 844))

# GET routes that are not pages a person lands on, and why.
NOT_PAGES = {
    "/": "redirects to /console/instances",
    "/console": "redirects to /console/instances",
    "/console/": "redirects to /console/instances",
    "/favicon.ico": "an image",
    "/console/overview/panel": "a fragment refresh.js swaps into /console/overview",
    "/console/tasks/table": "a fragment refresh.js swaps into /console/tasks",
    "/console/tasks/{task_id}/history/rows": "a fragment history.js swaps into the history",
}


def console_get_routes() -> list[str]:
    """Every GET path of every router in the ``apicron.console`` package."""
    paths: set[str] = set()
    for found in pkgutil.iter_modules(apicron.console.__path__):
        module = importlib.import_module(f"apicron.console.{found.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            paths.update(route.path for route in router.routes
                         if isinstance(route, APIRoute) and "GET" in (route.methods or ()))
    return sorted(paths)


server, browser, state = module_fixtures("a11y", timeout=120)


@pytest.fixture(scope="module")
def ids(server: ApicronProcess) -> Iterator[dict[str, str]]:
    """Real data on every page: an app granted a published API, a task with succeeded and
    failed runs and a FAILURE alert sent to a webhook channel, a Started task, a user."""
    backend, receiver = Backend().start(), WebhookReceiver().start()
    try:
        with server.client() as client:
            rest = World(client)
            app, api = rest.setup(backend_url=backend.url(backend.path()),
                                  description="Orders of the night")
            failing_api = rest.api(rest.group(app),
                                   backend_url=backend.url("/status/503" + backend.path()))
            rest.grant(rest.app(), api)
            channel = rest.ok(client.post("/v1/channels", json={
                "name": unique("chan"), "kind": "webhook", "url": receiver.url}), 201)
            task = rest.task(app, api, description="Posts the nightly orders",
                             request={"headers": [{"name": "X-Tenant", "value": "acme"}]})
            failing = rest.task(app, failing_api, alerts={
                "channel_ids": [channel["id"]], "on_failure_after": 1})
            run_and_wait(rest, task, 2)
            run_and_wait(rest, failing, 1)
            wait_for(lambda: rest.ok(client.get("/v1/alerts"))["items"], 60, "an alert")
            rest.ok(client.post(f"/v1/tasks/{rest.task(app, api)['id']}/start"))
            user = rest.ok(client.post("/v1/users", json={
                "username": unique("operator"), "role": "operator",
                "display_name": "Night operator"}), 201)
            calendar = rest.ok(client.post("/v1/calendars", json={
                "name": unique("cal"), "exclude_weekdays": ["SAT", "SUN"],
                "holidays": {"country": "DE", "subdivision": "BY"}}), 201)
            yield {"task_id": task["id"], "api_id": api["id"], "user_id": user["id"],
                   "app_id": app["id"], "group_id": api["group_id"],
                   "calendar_id": calendar["id"]}
    finally:
        receiver.stop()
        backend.stop()


def _lines(where: str, page: Page, result: list[dict[str, Any]]) -> list[str]:
    size = page.viewport_size or {"width": 0, "height": 0}
    return [
        f"{where} at {size['width']}x{size['height']}: {v['id']} ({v['impact']}): "
        f"{v['help']} at {node['target']}: {node['failureSummary']}"
        for v in result if v["impact"] in BLOCKING for node in v["nodes"]
    ]


def scan(tabs: Sequence[Page], where: str) -> list[str]:
    """axe-core's serious and critical violations in each tab, one line per element, each
    saying where and at what size. The scans are started in every tab, then awaited."""
    for tab in tabs:
        # Only violations are read: axe skips gathering passes and incomplete results then.
        tab.evaluate("() => { window.axeScan = axe.run(document, "
                     "{resultTypes: ['violations']}); }")
    return [line for tab in tabs for line in _lines(
        where, tab, tab.evaluate("async () => (await window.axeScan).violations"))]


def load(tabs: Sequence[Page], url: str) -> None:
    """Every tab loads ``url``, the requests sent together."""
    for tab in tabs:
        tab.goto(url, wait_until="commit")
    for tab in tabs:
        tab.wait_for_load_state()


@contextmanager
def tabs_at_every_size(browser: Browser, state: StorageState | None) -> Iterator[list[Page]]:
    """One context (one signed-in state) with a tab at each of ``SIZES``, every page of
    it with axe loaded before its own scripts."""
    # axe is an inline script to the page: the console's CSP refuses those, rightly.
    context = browser.new_context(storage_state=state, bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_init_script(path=AXE)
    try:
        tabs = []
        for width, height in SIZES:
            tab = context.new_page()
            tab.set_viewport_size({"width": width, "height": height})
            tabs.append(tab)
        yield tabs
    finally:
        context.close()


@pytest.fixture
def tabs(browser: Browser, state: StorageState) -> Iterator[list[Page]]:
    with tabs_at_every_size(browser, state) as opened:
        yield opened


def test_axe_is_installed_from_npm() -> None:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: scripts/test.sh installs it (npm ci in tests/axe)")


def test_every_console_page_has_no_serious_or_critical_violation(
    tabs: list[Page], server: ApicronProcess, ids: dict[str, str]
) -> None:
    routes = console_get_routes()
    assert "/console/tasks/{task_id}" in routes and "/console/overview" in routes, routes
    found: list[str] = []
    visited = 0
    for route in routes:
        if route in NOT_PAGES:
            continue
        url = server.url + route.format(**ids)
        load(tabs, url)
        # A page that sends the browser elsewhere (a refusal, a missing id) was not scanned.
        assert [t.url.split("?")[0] for t in tabs] == [url] * len(tabs), (route, tabs[0].url)
        found.extend(scan(tabs, route))
        visited += 1
    # States that only a posted form shows: the task form's errors, a bulk dry run, a test
    # call's answer.
    load(tabs, f"{server.url}/console/tasks/new")
    for tab in tabs:
        tab.locator("#ok").click()
        expect(tab.locator("#name-error")).to_be_visible()
    found.extend(scan(tabs, "task form with errors"))
    load(tabs, f"{server.url}/console/tasks/bulk")
    for tab in tabs:
        tab.get_by_label("Status").select_option("STARTED")
        tab.locator("#bulk-preview").click()
        expect(tab.locator("#bulk-confirm")).to_be_visible()
    found.extend(scan(tabs, "bulk dry run"))
    load(tabs, f"{server.url}/console/apis/{ids['api_id']}/edit")
    for tab in tabs:
        tab.get_by_role("button", name="Test call").click()
        expect(tab.locator("#trial-status")).to_have_text("200 OK")
    found.extend(scan(tabs, "API page with a test call's answer"))
    assert visited >= 20, visited
    assert not found, "\n".join(found)


def test_the_sign_in_page_has_no_serious_or_critical_violation(
    browser: Browser, server: ApicronProcess
) -> None:
    with tabs_at_every_size(browser, None) as signin:
        load(signin, f"{server.url}/console/login")
        found = scan(signin, "sign-in")
        for tab in signin:
            # The tabs share one cookie jar: each loaded the form with its own pre-login
            # cookie, and only the last one still matches; a reload makes it this tab's.
            tab.reload()
            tab.get_by_label("Username").fill("nobody")
            tab.get_by_label("Password").fill("wrong")
            tab.get_by_role("button", name="Log in").click()
            expect(tab.get_by_text("Wrong username or password.")).to_be_visible()
        found += scan(signin, "sign-in refused")
    assert not found, "\n".join(found)
