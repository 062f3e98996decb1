"""Issue 18 in the console, in a real browser: tags on the form and in the list, the tag
filter, a stop note, cloning, and bulk start/stop with a dry run and a confirmation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import World, unique
from tests.console_helpers import console_page, log_in, module_fixtures
from tests.servers import ApicronProcess

console_server, browser, _state = module_fixtures("console-organise", server="console_server")


@pytest.fixture(scope="module")
def page(browser: Browser, console_server: ApicronProcess) -> Iterator[Page]:
    with console_page(browser) as p:
        log_in(p, console_server)
        yield p


@pytest.fixture
def rest(console_server: ApicronProcess) -> Iterator[World]:
    with console_server.client() as client:
        yield World(client)


def test_tags_filter_stop_note_and_clone(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    mark = unique("m")
    tagged = rest.task(app, api, tags={"run": mark, "env": "prod"})
    rest.task(app, api, tags={"run": mark, "env": "dev"})
    page.goto(f"{console_server.url}/console/tasks")
    page.get_by_label("Tags").fill(f"run={mark}, env=prod")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tr[data-task]")).to_have_count(1)
    row = page.locator(f'tr[data-task="{tagged["name"]}"]')
    expect(row.locator('[data-tag="env=prod"]')).to_be_visible()

    page.get_by_label("Tags").fill("bad key=x")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#tag-error")).to_contain_text("tag")

    # Edit: the form shows the tags and saves a change; a bad tag is refused at its field
    page.goto(f"{console_server.url}/console/tasks/{tagged['id']}/edit")
    tags = page.locator("#tags")
    expect(tags).to_have_value(f"run={mark}, env=prod")
    tags.fill(f"run={mark}, env=prod, bad key=1")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#tags-error")).to_contain_text("tags.bad key")
    page.locator("#tags").fill(f"run={mark}, env=prod, tier=2")
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text("saved")
    assert rest.ok(rest.client.get(f"/v1/tasks/{tagged['id']}"))["tags"] == {
        "run": mark, "env": "prod", "tier": "2"}

    # Stop with a note: confirmed, then shown in the list
    rest.ok(rest.client.post(f"/v1/tasks/{tagged['id']}/start"))
    page.goto(f"{console_server.url}/console/tasks?q={tagged['name']}")
    row = page.locator(f'tr[data-task="{tagged["name"]}"]')
    row.get_by_label("Why (optional)").fill("paused: backend migration until Friday")
    row.get_by_role("button", name="Stop").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(page.locator(".flash-ok")).to_contain_text("stopped")
    expect(row.locator(".stop-reason")).to_have_text("paused: backend migration until Friday")

    # Clone: a new INITIALIZED task with the same configuration
    row.get_by_role("link", name="Clone").click()
    name = unique("copy")
    page.get_by_label("Name of the copy").fill(name)
    page.get_by_role("button", name="Create copy").click()
    expect(page.locator(".flash-ok")).to_contain_text(name)
    (copy,) = [t for t in rest.ok(rest.client.get("/v1/tasks", params={"name": name}))["items"]]
    assert copy["status"] == "INITIALIZED" and copy["tags"]["tier"] == "2"
    page.goto(f"{console_server.url}/console/tasks/{tagged['id']}/clone")
    page.get_by_label("Name of the copy").fill(name)
    page.get_by_role("button", name="Create copy").click()
    expect(page.locator("#name-error")).to_contain_text("already exists")


def test_bulk_stop_shows_the_tasks_first_and_needs_a_confirmation(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    mark = unique("b")
    made = [rest.task(app, api, tags={"batch": mark}) for _ in range(2)]
    for task in made:
        rest.ok(rest.client.post(f"/v1/tasks/{task['id']}/start"))
    page.goto(f"{console_server.url}/console/tasks")
    page.get_by_role("link", name="Bulk start/stop").click()
    page.get_by_label("Action").select_option("stop")
    page.get_by_label("Tags (every one must match)").fill(f"batch={mark}")
    page.get_by_label("Note when stopping (optional)").fill("freeze")
    page.get_by_role("button", name="Show the tasks").click()
    expect(page.locator("#bulk-table tr[data-task]")).to_have_count(2)
    expect(page.locator('[data-outcome="WOULD_CHANGE"]')).to_have_count(2)
    statuses = {rest.ok(rest.client.get(f"/v1/tasks/{t['id']}"))["status"] for t in made}
    assert statuses == {"STARTED"}  # the first step changes nothing

    page.get_by_role("button", name="Confirm: stop 2 task(s)").click()
    dialog = page.locator("#confirm-dialog")
    dialog.get_by_role("button", name="No").click()
    assert {rest.ok(rest.client.get(f"/v1/tasks/{t['id']}"))["status"] for t in made} == {
        "STARTED"}
    page.get_by_role("button", name="Confirm: stop 2 task(s)").click()
    dialog.get_by_role("button", name="Yes").click()
    expect(page.locator(".flash-ok")).to_contain_text("2 task(s) stopped")
    for task in made:
        now = rest.ok(rest.client.get(f"/v1/tasks/{task['id']}"))
        assert (now["status"], now["stop_reason"]) == ("STOPPED", "freeze")

    page.goto(f"{console_server.url}/console/tasks/bulk")
    page.get_by_role("button", name="Show the tasks").click()
    expect(page.locator("#bulk-error")).to_contain_text("at least one")
