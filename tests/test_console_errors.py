"""The console's forms show every problem of a submission at once, in a real browser.

Issue 19 ("Errors") and the console review: the create form used to report one error at a
time, so a user fixed a field, submitted, and met the next. The same request to the REST
API answers the same problems in its ``errors`` list.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import World, unique
from tests.console_helpers import chromium, console_page, log_in, screenshot
from tests.servers import ApicronProcess


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("console-errors")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser, console_server: ApicronProcess) -> Iterator[Page]:
    with console_page(browser) as p:
        log_in(p, console_server)
        yield p


@pytest.fixture
def rest(console_server: ApicronProcess) -> Iterator[World]:
    with console_server.client() as client:
        yield World(client)


def test_the_task_form_shows_every_problem_at_once(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    rest.setup()  # an app and a published API exist; the form selects neither
    page.goto(f"{console_server.url}/console/tasks/new")
    page.get_by_label("Task Name").fill("9lives")
    page.get_by_label("Cron Expression").fill("0 0 12 * * *")
    page.locator("#add-header").click()
    page.get_by_label("Header name").fill("Authorization")
    page.get_by_label("Header value").fill("Bearer nope")
    page.get_by_role("button", name="OK").click()

    expect(page.locator("#fields-error")).to_contain_text("see the 5 fields marked below")
    expect(page.locator("#name-error")).to_contain_text("start with a letter")
    expect(page.locator("#app_id-error")).to_contain_text("is required")
    expect(page.locator("#cron_expression-error")).to_contain_text(
        "exactly one of them must be '?'")
    expect(page.locator("#headers-error")).to_contain_text("'Authorization' is reserved")
    expect(page.locator("#api_id-error")).to_contain_text("is required")
    expect(page.get_by_label("Task Name")).to_have_value("9lives")
    screenshot(page, "create-task-every-problem")

    answer = rest.client.post("/v1/tasks", json={
        "name": "9lives", "app_id": "", "trigger_type": "CRON",
        "cron_expression": "0 0 12 * * *", "api_id": "",
        "request": {"headers": [{"name": "Authorization", "value": "Bearer nope"}]},
    }).json()
    assert [e["field"] for e in answer["errors"]] == [
        "name", "app_id", "cron_expression", "api_id", "request.headers[0].name"]


def test_the_task_form_shows_a_field_problem_and_a_form_problem_together(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    name = unique("both")
    page.goto(f"{console_server.url}/console/tasks/new")
    page.get_by_label("Task Name").fill(name)
    page.get_by_label("Integration Application").select_option(label=app["name"])
    page.get_by_label("Cron Expression").fill("0 0 12 1 1 ? 2020")
    page.get_by_label("Effective Time").fill("2019-01-01T00:00:00")
    page.get_by_role("button", name="Select API").click()
    page.locator("#api-picker").get_by_role("button", name=f"Select {api['name']}").click()
    rest.ok(rest.client.post(f"/v1/apis/{api['id']}/unpublish"))
    page.get_by_role("button", name="OK").click()

    expect(page.locator("#cron_expression-error")).to_contain_text("never fires again")
    expect(page.locator("#api_id-error")).to_contain_text("is not published")
    expect(page.locator("#fields-error")).to_contain_text("see the 2 fields")
    assert rest.client.get("/v1/tasks", params={"name": name}).json()["total"] == 0


def test_the_api_form_shows_every_problem_at_once(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    group = rest.group(rest.app())
    page.goto(f"{console_server.url}/console/apis/new")
    page.get_by_label("API Group").select_option(label=group["name"])
    page.get_by_label("Name").fill("9x")
    page.get_by_label("Path").fill("orders")
    page.get_by_label("Backend URL").fill("http://127.0.0.1:9/orders")
    page.get_by_role("button", name="OK").click()

    expect(page.locator("#name-error")).to_contain_text("start with a letter")
    expect(page.locator("#path-error")).to_contain_text("must start with '/'")
    expect(page.get_by_label("Path")).to_have_value("orders")

    page.get_by_label("Name").fill(unique("api"))
    page.get_by_label("Path").fill("/orders/{id}")
    page.get_by_label("Backend URL").fill("http://169.254.169.254/{nope}")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#backend_url-error")).to_be_visible()
    expect(page.locator("#name-error")).to_have_count(0)
    assert rest.client.get("/v1/apis", params={"group_id": group["id"]}).json()["total"] == 0
