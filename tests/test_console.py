"""The web console in a real browser, walking the seed's procedure end to end.

Log in → Instances → View Console → create apps, a group and an API on a real backend,
publish it, authorize a second app → Scheduled Tasks → Create Scheduled Task with every
Table-1 field → OK → Initialized → Start → Yes → Started → the backend receives the call →
History shows it. Then the form's refusals, each at its field, and Select API's rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.conftest import World, unique
from tests.console_helpers import chromium, console_page, log_in, nav, screenshot
from tests.servers import ADMIN_TOKEN, ApicronProcess
from tests.test_engine_crash import wait_for
from tests.test_gateway import Backend


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("console")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def recording_backend() -> Iterator[Backend]:
    backend = Backend().start()
    yield backend
    backend.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def session_state(browser: Browser, console_server: ApicronProcess) -> StorageState:
    """One login for the module: each test's context starts with its session cookie."""
    with console_page(browser) as p:
        log_in(p, console_server)
        return p.context.storage_state()


@pytest.fixture
def anonymous_page(browser: Browser) -> Iterator[Page]:
    with console_page(browser) as p:
        yield p


@pytest.fixture
def page(browser: Browser, session_state: StorageState) -> Iterator[Page]:
    with console_page(browser, session_state) as p:
        yield p


@pytest.fixture
def rest(console_server: ApicronProcess) -> Iterator[World]:
    with console_server.client() as client:
        yield World(client)


def create_app(page: Page, name: str) -> str:
    nav(page, "Integration Applications")
    page.get_by_role("link", name="Create Integration Application").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill(f"{name} for the console walk")
    page.get_by_role("button", name="OK").click()
    reveal = page.locator("#secret-reveal")
    expect(reveal).to_be_visible()
    secret = page.locator("#reveal-secret").inner_text()
    assert len(secret) >= 16
    expect(reveal.get_by_role("button", name="Copy")).to_be_visible()
    return secret


def test_the_seed_walk_fires_a_task_created_in_the_console(
    anonymous_page: Page, console_server: ApicronProcess, recording_backend: Backend
) -> None:
    page = anonymous_page
    owner, caller = unique("ownerapp"), unique("callerapp")
    group, api = unique("ordersgroup"), unique("createorder")
    cron_task, calendar_task = unique("everysecond"), unique("fiveminutely")
    backend_path = recording_backend.path()

    # log in → Instances → View Console (seed step 1)
    log_in(page, console_server)
    screenshot(page, "instances")
    page.get_by_role("link", name="View Console").click()
    # The console opens on the overview (issue 15); the parameters are one click away.
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    nav(page, "Instance Parameters")
    expect(page.get_by_role("heading", name="Instance Parameters")).to_be_visible()
    expect(page.get_by_label("app_route")).to_be_checked()
    expect(page.get_by_label("app_secret")).to_be_checked()
    screenshot(page, "instance-parameters")

    # Integration Applications: the secret is shown once, with a copy button
    create_app(page, owner)
    screenshot(page, "integration-applications")
    page.reload()
    expect(page.locator("#secret-reveal")).to_have_count(0)
    create_app(page, caller)

    # API Connect > APIs: a group, a POST API on the backend, publish, authorize the caller
    nav(page, "APIs")
    page.get_by_role("link", name="Create API Group").click()
    page.get_by_label("Name").fill(group)
    page.get_by_label("Integration Application (owner of the group's APIs)").select_option(
        label=owner
    )
    page.get_by_role("button", name="OK").click()
    expect(page.locator(f'tr[data-group="{group}"]')).to_be_visible()
    page.get_by_role("link", name="Create API", exact=True).click()
    page.get_by_label("API Group").select_option(label=group)
    page.get_by_label("Name").fill(api)
    page.get_by_label("Method").select_option("POST")
    page.get_by_label("Path").fill(f"/{unique('console')}/orders")
    page.get_by_label("Authentication").select_option("APP")
    page.get_by_label("Backend URL").fill(recording_backend.url(backend_path))
    page.get_by_label("Backend timeout (ms)").fill("3000")
    page.get_by_role("button", name="OK").click()
    api_row = page.locator(f'tr[data-api="{api}"]')
    expect(api_row.locator(".badge")).to_have_text("Draft")
    api_row.get_by_role("button", name="Publish").click()
    expect(api_row.locator(".badge")).to_have_text("Published")
    screenshot(page, "apis")
    api_row.get_by_role("link", name="Authorize App").click()
    page.get_by_label("Integration Application").select_option(label=caller)
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator(f'tr[data-grant="{caller}"]')).to_be_visible()

    # API Connect > API Policies > Scheduled Tasks → Create Scheduled Task (seed steps 2-4)
    nav(page, "Scheduled Tasks")
    page.get_by_role("link", name="Create Scheduled Task").click()
    page.get_by_label("Task Name").fill(cron_task)
    page.get_by_label("Integration Application").select_option(label=caller)
    page.get_by_label("Description").fill("calls the owner's API with the caller's grant")
    paris = ZoneInfo("Europe/Paris")
    effective = (datetime.now(paris) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_label("Effective Time").fill(effective)
    page.get_by_role("radio", name="CRON").check()
    page.get_by_label("Cron Expression").fill("* * * * * ?")
    expect(page.locator("#preview-description")).to_contain_text("second")
    expect(page.locator("#preview-times li")).to_have_count(5)
    page.get_by_label("Max Retry Attempts").select_option("2")
    page.get_by_role("button", name="Select API").click()
    picker = page.locator("#api-picker")
    expect(picker).to_be_visible()
    picker.get_by_role("button", name=f"Select {api}").click()
    expect(picker).to_be_hidden()
    expect(page.get_by_label("API", exact=True)).to_have_value(re.compile(f"^{api} — POST /"))
    page.locator("#add-header").click()
    page.get_by_label("Header name").fill("X-Trace")
    page.get_by_label("Header value").fill("console-walk")
    page.locator("#add-query").click()
    page.get_by_label("Parameter name").fill("page")
    page.get_by_label("Parameter value").fill("1")
    expect(page.get_by_label("Content", exact=True)).to_be_enabled()
    page.get_by_label("Content type").select_option("application/json")
    page.get_by_label("Content", exact=True).fill('{"order": 42}')
    screenshot(page, "create-scheduled-task")
    page.get_by_role("button", name="OK").click()

    task_row = page.locator(f'tr[data-task="{cron_task}"]')
    expect(task_row.locator("[data-status]")).to_have_text("Initialized")

    # a CALENDAR task: the interval replaces the cron expression
    page.get_by_role("link", name="Create Scheduled Task").click()
    page.get_by_label("Task Name").fill(calendar_task)
    page.get_by_label("Integration Application").select_option(label=owner)
    page.get_by_role("radio", name="CALENDAR").check()
    expect(page.get_by_label("Cron Expression")).to_be_hidden()
    page.get_by_label("Every").fill("5")
    page.get_by_label("Unit").select_option("MINUTE")
    expect(page.locator("#preview-description")).to_contain_text("5")
    expect(page.locator("#preview-times li")).to_have_count(5)
    page.get_by_role("button", name="Select API").click()
    page.locator("#api-picker").get_by_role("button", name=f"Select {api}").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator(f'tr[data-task="{calendar_task}"] [data-status]')).to_have_text(
        "Initialized"
    )
    screenshot(page, "scheduled-tasks")

    # Start → confirm dialog → Yes → Started (seed step 5)
    task_row.get_by_role("button", name="Start").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(cron_task)
    dialog.get_by_role("button", name="Yes").click()
    expect(task_row.locator("[data-status]")).to_have_text("Started")
    expect(task_row.get_by_role("button", name="Edit")).to_be_disabled()
    expect(task_row.get_by_role("button", name="Delete")).to_be_disabled()
    expect(task_row.locator('.tip[title="Stop the task before editing it"]')).to_have_count(1)

    wait_for(lambda: len(recording_backend.to(backend_path)) >= 1, 15, "the backend call")
    call = recording_backend.to(backend_path)[0]
    assert call.method == "POST"
    assert call.query == "page=1"
    assert call.header("X-Trace") == ["console-walk"]
    assert call.header("Content-Type")[0].startswith("application/json")
    assert json.loads(call.body) == {"order": 42}

    # History shows the execution, attempts expandable, refreshing on its own
    task_row.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name=f"Execution History · {cron_task}")).to_be_visible()
    succeeded = page.locator('#history-rows tr[data-status="SUCCEEDED"]').first
    expect(succeeded).to_be_visible()
    succeeded.locator("summary").click()
    expect(succeeded.locator(".attempts")).to_contain_text("HTTP 200")
    screenshot(page, "execution-history")

    nav(page, "Scheduled Tasks")
    task_row.get_by_role("button", name="Stop").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(task_row.locator("[data-status]")).to_have_text("Stopped")

    # Edit uses the same form, filled with the stored task
    task_row.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit Scheduled Task")).to_be_visible()
    expect(page.get_by_label("Task Name")).to_have_value(cron_task)
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    expect(page.get_by_label("Header name")).to_have_value("X-Trace")
    expect(page.get_by_label("Content", exact=True)).to_have_value('{"order": 42}')
    page.get_by_label("Cron Expression").fill("0 0/5 * * * ?")
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"{cron_task} saved")
    expect(task_row.locator(".trigger-cell")).to_contain_text("0 0/5 * * * ?")
    page.set_viewport_size({"width": 420, "height": 800})
    screenshot(page, "scheduled-tasks-narrow")


def test_select_api_hides_and_marks_what_the_app_cannot_call(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    mine = rest.app()
    own_group = rest.group(mine)
    own_post = rest.api(own_group)
    own_get = rest.api(own_group, method="GET")
    other = rest.app()
    other_group = rest.group(other)
    open_api = rest.api(other_group, auth_type="NONE")
    ungranted = rest.api(other_group)
    granted = rest.api(other_group)
    rest.grant(mine, granted)
    draft = rest.api(own_group, publish=False)

    page.goto(f"{console_server.url}/console/tasks/new")
    page.get_by_label("Integration Application").select_option(label=mine["name"])
    page.get_by_role("button", name="Select API").click()
    picker = page.locator("#api-picker")
    for api in (own_post, own_get, granted):
        expect(picker.get_by_role("button", name=f"Select {api['name']}")).to_be_enabled()
    expect(picker.locator(f'tr[data-api="{open_api["name"]}"]')).to_have_count(0)
    expect(picker.locator(f'tr[data-api="{draft["name"]}"]')).to_have_count(0)
    marked = picker.locator(f'tr[data-api="{ungranted["name"]}"]')
    expect(marked.get_by_role("button")).to_be_disabled()
    expect(marked.locator(".why-not")).to_contain_text("Not authorized")
    screenshot(page, "select-api")

    # seed: Body only for POST, PUT and PATCH
    picker.get_by_role("button", name=f"Select {own_get['name']}").click()
    expect(page.get_by_label("Content", exact=True)).to_be_disabled()
    expect(page.get_by_label("Content type")).to_be_disabled()
    expect(page.locator("#body-help")).to_contain_text("GET")
    page.get_by_role("button", name="Select API").click()
    picker.get_by_role("button", name=f"Select {own_post['name']}").click()
    expect(page.get_by_label("Content", exact=True)).to_be_enabled()


def test_each_refusal_shows_at_its_field_with_the_api_message(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    name = unique("refused")
    page.goto(f"{console_server.url}/console/tasks/new")
    page.get_by_label("Task Name").fill(name)
    page.get_by_label("Integration Application").select_option(label=app["name"])
    page.get_by_label("Cron Expression").fill("0 0 12 * * *")
    # the live preview already says what is wrong
    expect(page.locator("#preview-description")).to_contain_text("exactly one of them")
    page.get_by_role("button", name="Select API").click()
    page.locator("#api-picker").get_by_role("button", name=f"Select {api['name']}").click()
    page.locator("#add-header").click()
    page.get_by_label("Header name").fill("Authorization")
    page.get_by_label("Header value").fill("Bearer nope")
    page.get_by_role("button", name="OK").click()

    # the same message the REST API gives for the same request
    body = rest.task_body(app, api, name=name, cron_expression="0 0 12 * * *",
                          request={"headers": [{"name": "Authorization", "value": "x"}]})
    answer = rest.client.post("/v1/tasks", json=body).json()
    assert "request.headers[0].name" in [e["field"] for e in answer["errors"]]
    expect(page.locator("#headers-error")).to_contain_text("'Authorization' is reserved")
    expect(page.get_by_label("Header name")).to_have_value("Authorization")
    screenshot(page, "create-task-refused")

    page.get_by_role("button", name="Remove header 1").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#cron_expression-error")).to_contain_text(
        "exactly one of them must be '?'"
    )
    expect(page.get_by_label("Cron Expression")).to_have_value("0 0 12 * * *")

    page.get_by_label("Cron Expression").fill("0 0 12 * * ?")
    page.get_by_label("Task Name").fill("9lives")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#name-error")).to_contain_text("start with a letter")

    page.get_by_label("Task Name").fill(name)
    page.get_by_label("Effective Time").fill("2031-01-02T00:00:00")
    page.locator(".advanced summary").click()
    page.get_by_label("End Time (optional)").fill("2031-01-01T00:00:00")
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#end_time-error")).to_contain_text("must be after effective_time")
    assert rest.client.get("/v1/tasks", params={"name": name}).json()["total"] == 0


def test_logging_out_ends_the_session_and_forms_need_the_csrf_token(
    anonymous_page: Page, console_server: ApicronProcess
) -> None:
    page = anonymous_page
    log_in(page, console_server)
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "apicron_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert ADMIN_TOKEN not in session["value"]
    # a form posted without the session's CSRF token is refused
    answer = page.request.post(
        f"{console_server.url}/console/apps", form={"name": unique("csrfless")}
    )
    assert answer.status == 403
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Password")).to_be_visible()
    page.goto(f"{console_server.url}/console/tasks")
    expect(page.get_by_label("Password")).to_be_visible()


def test_an_app_that_owns_groups_is_not_deleted_and_says_why(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    owner = rest.app()
    rest.group(owner)
    spare = rest.app()
    page.goto(f"{console_server.url}/console/apps?q={owner['name']}")
    owner_row = page.locator(f'tr[data-app="{owner["name"]}"]')
    owner_row.get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(page.locator(".flash-error")).to_contain_text("owns 1 API group(s)")

    page.goto(f"{console_server.url}/console/apps?q={spare['name']}")
    spare_row = page.locator(f'tr[data-app="{spare["name"]}"]')
    spare_row.get_by_role("button", name="Reset Secret").click()
    page.locator("#confirm-dialog").get_by_role("button", name="No").click()
    expect(page.locator("#secret-reveal")).to_have_count(0)
    spare_row.get_by_role("button", name="Reset Secret").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(page.locator("#reveal-secret")).not_to_have_text(spare["secret"])
    spare_row.get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Yes").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"{spare['name']} deleted")


def test_a_task_is_refused_while_an_instance_parameter_is_off(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    page.goto(f"{console_server.url}/console/instance")
    page.get_by_label("app_secret").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-ok")).to_contain_text("saved")
    try:
        nav(page, "Scheduled Tasks")
        page.get_by_role("link", name="Create Scheduled Task").click()
        page.get_by_label("Task Name").fill(unique("paramoff"))
        page.get_by_label("Integration Application").select_option(label=app["name"])
        page.get_by_label("Cron Expression").fill("0 0 12 ? * 6#3")
        page.get_by_role("button", name="Select API").click()
        page.locator("#api-picker").get_by_role("button", name=f"Select {api['name']}").click()
        page.get_by_role("button", name="OK").click()
        expect(page.locator("#form-error")).to_contain_text("instance parameter app_secret is off")
    finally:
        rest.ok(rest.client.put("/v1/instance", json={"params": {"app_secret": True}}))


def test_the_task_list_searches_filters_and_pages(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    prefix = unique("paged")
    made = [rest.task(app, api, name=f"{prefix}_{i:02d}") for i in range(12)]
    rest.ok(rest.client.post(f"/v1/tasks/{made[0]['id']}/start"))
    try:
        page.goto(f"{console_server.url}/console/tasks")
        page.get_by_label("Task name").fill(prefix)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("tr[data-task]")).to_have_count(10)
        expect(page.locator(".pager")).to_contain_text("12 task(s) · page 1 of 2")
        page.get_by_role("link", name="Next").click()
        expect(page.locator("tr[data-task]")).to_have_count(2)
        expect(page.get_by_label("Task name")).to_have_value(prefix)

        page.get_by_label("Status").select_option("STARTED")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("tr[data-task]")).to_have_count(1)
        started = page.locator(f'tr[data-task="{made[0]["name"]}"]')
        expect(started.locator("[data-status]")).to_have_text("Started")
        expect(started.locator('.tip[title="Stop the task before deleting it"]')).to_have_count(1)

        page.get_by_label("Status").select_option("")
        page.get_by_label("Integration Application").select_option(label=app["name"])
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".pager")).to_contain_text("12 task(s)")

        # Run now works in any state and lands on the task's history
        once = made[1]["name"]
        page.goto(f"{console_server.url}/console/tasks?q={once}")
        page.locator(f'tr[data-task="{once}"]').get_by_role("button", name="Run now").click()
        expect(page.get_by_role("heading", name=f"Execution History · {once}")).to_be_visible()
        expect(page.locator(".flash-ok")).to_contain_text("Run queued")
        expect(page.locator('#history-rows tr[data-execution]')).to_have_count(1)
    finally:
        rest.ok(rest.client.post(f"/v1/tasks/{made[0]['id']}/stop"))


def test_history_refreshes_on_its_own_while_open(
    page: Page, rest: World, console_server: ApicronProcess, recording_backend: Backend
) -> None:
    path = recording_backend.path()
    app, api = rest.setup(backend_url=recording_backend.url("/status/503" + path))
    task = rest.task(app, api, max_retries=1)
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/history")
    expect(page.locator("#history-rows .empty")).to_be_visible()
    rest.ok(rest.client.post(f"/v1/tasks/{task['id']}/run"), 202)
    failed = page.locator('#history-rows tr[data-status="FAILED"]')
    expect(failed).to_be_visible(timeout=15_000)
    expect(failed).to_contain_text("Manual")
    failed.locator("summary").click()
    expect(failed.locator(".attempts li")).to_have_count(2)
    expect(failed.locator(".attempts")).to_contain_text("HTTP 503")


def test_the_preview_marks_fire_times_a_dst_change_moved(
    page: Page, console_server: ApicronProcess
) -> None:
    page.goto(f"{console_server.url}/console/tasks/new")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_label("Effective Time").fill("2031-03-29T00:00:00")
    # 02:30 does not exist on 30 March 2031 in Paris: it fires at the jump instead
    page.get_by_label("Cron Expression").fill("0 30 2 * * ?")
    times = page.locator("#preview-times li")
    expect(times).to_have_count(5)
    expect(times.nth(1)).to_contain_text("2031-03-30 03:00:00+02:00")
    expect(times.nth(1).locator(".badge-dst")).to_have_text("DST change")
    expect(times.nth(0).locator(".badge-dst")).to_have_count(0)


def test_the_console_ships_its_own_files_only_and_stays_out_of_the_openapi_document(
    console_server: ApicronProcess,
) -> None:
    with console_server.client(token=None) as client:
        login = client.get("/console/login")
        assert login.status_code == 200
        assert "script-src 'self'" in login.headers["content-security-policy"]
        assert login.headers["cache-control"] == "no-store"
        assets = re.findall(r'(?:src|href)="([^"]+)"', login.text)
        assert assets and all(a.startswith("/console/") for a in assets), assets
        for asset in ("console.css", "console.js", "task_form.js", "history.js"):
            assert client.get(f"/console/static/{asset}").status_code == 200
        paths = client.get("/openapi.json").json()["paths"]
        assert all(p.startswith(("/v1/", "/healthz", "/livez", "/readyz", "/metrics"))
                   for p in paths), paths
        # every page but the login wants a session
        answer = client.get("/console/tasks")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login?next=/console/tasks"
        preview = client.post("/console/api/preview", json={"cron_expression": "* * * * *"})
        assert preview.status_code == 401


def test_a_wrong_token_is_refused_at_the_login_form(
    anonymous_page: Page, console_server: ApicronProcess
) -> None:
    page = anonymous_page
    page.goto(f"{console_server.url}/console/tasks")
    page.get_by_label("Password").fill("not-the-token")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("That is not the admin token.")
    screenshot(page, "login")
    page.get_by_label("Password").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Scheduled Tasks")).to_be_visible()


def test_start_and_its_confirmation_work_from_the_keyboard(
    page: Page, rest: World, console_server: ApicronProcess
) -> None:
    app, api = rest.setup()
    task = rest.task(app, api)
    page.goto(f"{console_server.url}/console/tasks?q={task['name']}")
    task_row = page.locator(f'tr[data-task="{task["name"]}"]')
    task_row.get_by_role("button", name="Start").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(task_row.locator("[data-status]")).to_have_text("Initialized")
    task_row.get_by_role("button", name="Start").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Yes")).to_be_focused()
    page.keyboard.press("Enter")
    try:
        expect(task_row.locator("[data-status]")).to_have_text("Started")
    finally:
        rest.ok(rest.client.post(f"/v1/tasks/{task['id']}/stop"))
