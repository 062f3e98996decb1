"""Issue 16's "done when", in a real browser: root creates an operator and a viewer in the
console; each logs in and sees what they may do (the rest disabled, saying why); the
operator starts a task and makes an API token the CLI then uses; root reads in the audit
log who started which task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import World, unique
from tests.console_helpers import chromium, console_page, log_in, nav, screenshot
from tests.servers import ApicronProcess

PASSWORD = "a console passphrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("console-roles")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def create_user(page: Page, username: str, role: str) -> None:
    nav(page, "Users")
    page.get_by_role("link", name="Create User").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(f"{role.capitalize()} Person")
    page.get_by_label("Role").select_option(role)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="OK").click()
    expect(page.locator(f'tr[data-user="{username}"]')).to_contain_text(role)


def disabled_with(page: Page, row: str, button: str, reason: str) -> None:
    target = page.locator(row).get_by_role("button", name=button)
    expect(target).to_be_disabled()
    expect(page.locator(row).locator(f'.tip[title="{reason}"]').first).to_be_attached()


def test_root_makes_an_operator_and_a_viewer_who_each_see_what_they_may_do(
    browser: Browser, server: ApicronProcess
) -> None:
    operator, viewer = unique("op"), unique("viewer")
    with server.client() as root_rest:
        world = World(root_rest)
        app, api = world.setup()
        task = world.task(app, api)
        channel = world.ok(root_rest.post("/v1/channels", json={
            "name": unique("chan"), "kind": "webhook", "url": "http://127.0.0.1:9/hook"}), 201)
    row = f'tr[data-task="{task["name"]}"]'

    with console_page(browser) as page:  # root: the admin token as the password
        log_in(page, server)
        expect(page.locator("#whoami-name")).to_have_text("root")
        create_user(page, operator, "operator")
        create_user(page, viewer, "viewer")
        screenshot(page, "users")

    with console_page(browser) as page:
        log_in(page, server, operator, PASSWORD)
        expect(page.locator("#whoami-name")).to_have_text(operator)
        expect(page.locator("#whoami-role")).to_have_text("operator")
        menu = page.get_by_role("navigation", name="Console")
        expect(menu.get_by_role("link", name="Users")).to_have_count(0)
        expect(menu.get_by_role("link", name="Audit Log")).to_be_visible()
        nav(page, "Integration Applications")
        expect(page.get_by_role("button", name="Create Integration Application")).to_be_disabled()
        disabled_with(page, f'tr[data-app="{app["name"]}"]', "Reset Secret",
                      "Needs the admin role (you are operator)")
        nav(page, "Notification Channels")  # channels are the admin's
        for button in ("Send Test", "Delete"):
            disabled_with(page, f'tr[data-channel="{channel["name"]}"]', button,
                          "Needs the admin role (you are operator)")
        expect(page.locator("#channel-form")).to_have_count(0)
        expect(page.locator("#channel-form-denied")).to_contain_text(
            "Needs the admin role (you are operator)")
        nav(page, "Scheduled Tasks")
        page.locator(row).get_by_role("button", name="Start").click()
        page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
        expect(page.locator(row).locator("[data-status]")).to_have_text("Started")
        screenshot(page, "tasks-as-operator")
        # a token for the CLI, shown once
        page.locator("#whoami").click()
        page.get_by_label("Token name").fill("laptop-cli")
        page.get_by_role("button", name="Create Token").click()
        token = page.locator("#reveal-token").inner_text()
        assert token.startswith("apc_")
        page.reload()
        expect(page.locator("#token-reveal")).to_have_count(0)
        expect(page.locator('tr[data-token="laptop-cli"]')).to_contain_text("operator")

    env = {**os.environ, "APICRON_URL": server.url, "APICRON_TOKEN": token}
    env.pop("APICRON_ADMIN_TOKEN", None)
    listed = subprocess.run([sys.executable, "-m", "apicron", "task", "list", "--json"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert listed.returncode == 0, listed.stderr
    assert task["name"] in [t["name"] for t in json.loads(listed.stdout)["items"]]
    refused = subprocess.run([sys.executable, "-m", "apicron", "user", "list"], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 1 and "needs the admin role" in refused.stderr

    with console_page(browser) as page:
        log_in(page, server, viewer, PASSWORD)
        expect(page.locator("#whoami-role")).to_have_text("viewer")
        menu = page.get_by_role("navigation", name="Console")
        expect(menu.get_by_role("link", name="Audit Log")).to_have_count(0)
        nav(page, "Scheduled Tasks")
        expect(page.get_by_role("button", name="Create Scheduled Task")).to_be_disabled()
        for button in ("Stop", "Run now", "Delete", "Edit"):
            disabled_with(page, row, button, "Needs the operator role (you are viewer)")
        screenshot(page, "tasks-as-viewer")
        page.goto(f"{server.url}/console/tasks/new")  # typed in: refused, saying why
        expect(page.locator(".flash-error")).to_have_text(
            "Needs the operator role (you are viewer).")
        page.goto(f"{server.url}/console/audit")
        expect(page.locator(".flash-error")).to_contain_text("needs the operator role")
        nav(page, "Alert History")  # reading is every role's
        expect(page.get_by_role("heading", name="Alerts")).to_be_visible()

    with console_page(browser) as page:  # root reads who started which task
        log_in(page, server)
        nav(page, "Audit Log")
        page.get_by_label("Action").select_option("start")
        page.get_by_role("button", name="Search").click()
        entry = page.locator('#audit-table tr[data-action="start"]').first
        expect(entry).to_contain_text(operator)
        expect(entry).to_contain_text(task["name"])
        expect(entry).to_contain_text("INITIALIZED → STARTED")
        # The time filters are ISO text in UTC, as the table shows times (not the browser's
        # locale); one that cannot be read is said at once, never left out of the search.
        page.get_by_label("From (UTC)").fill("yesterday")
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".flash-error")).to_have_text(
            "From: must be a UTC date-time as YYYY-MM-DD HH:MM (seconds optional), "
            "got 'yesterday'")
        expect(page.get_by_label("From (UTC)")).to_have_value("yesterday")
        expect(page.locator('#audit-table tr[data-action="start"]')).to_have_count(0)
        page.get_by_label("From (UTC)").fill("2020-01-01 00:00")
        page.get_by_label("To (UTC)").fill("2999-12-31 23:59:59")
        page.get_by_role("button", name="Search").click()
        expect(page.locator('#audit-table tr[data-action="start"]').first).to_contain_text(
            task["name"])
        screenshot(page, "audit-log")
