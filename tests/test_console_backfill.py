"""The console's Replay action and backfill form with its confirmation (issue 18), in real
headless Chromium against a real apicron process and a real backend on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.console_helpers import chromium, console_page, log_in
from tests.servers import ApicronProcess
from tests.test_gateway import Backend


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("console-backfill")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


@pytest.fixture
def page(console_server: ApicronProcess) -> Iterator[Page]:
    with chromium() as browser, console_page(browser) as p:
        log_in(p, console_server)
        yield p


@pytest.fixture
def rest(console_server: ApicronProcess) -> Iterator[World]:
    with console_server.client() as client:
        yield World(client)


def _rfc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_backfill_is_checked_then_confirmed_and_an_execution_replayed(
    page: Page, rest: World, console_server: ApicronProcess, backend: Backend
) -> None:
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    app, api = rest.setup(backend_url=backend.url(backend.path()))
    task = rest.task(app, api, cron_expression="0 0 * * * ?",
                     effective_time=_rfc(hour - timedelta(days=2)))
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/history")
    page.locator("#backfill-link").click()
    page.get_by_label("From (included)").fill(_rfc(hour - timedelta(hours=3)))
    page.get_by_label("To (excluded, not in the future)").fill(_rfc(hour))
    page.locator("#backfill-check").click()
    expect(page.locator("#backfill-plan")).to_contain_text("This queues 3 executions")
    # Checking queued nothing: the confirmation does.
    assert rest.ok(rest.client.get(f"/v1/tasks/{task['id']}/executions"))["total"] == 0
    page.locator("#backfill-confirm").click()
    rows = page.locator('#history-rows tr[data-status="SUCCEEDED"]')
    expect(rows).to_have_count(3, timeout=15_000)
    expect(rows.first).to_contain_text("Backfill")
    # How a run came to run as it did (its note) shows under its status, as in the CLI.
    expect(rows.first.locator("[data-note]")).to_contain_text("backfill SEQUENTIAL of")

    first = rows.first.get_attribute("data-execution")
    assert first is not None
    page.locator(f"#replay-{first}").click()
    page.locator("#confirm-yes").click()
    expect(page.locator('#history-rows tr[data-status="SUCCEEDED"]')).to_have_count(
        4, timeout=15_000)
    expect(page.locator("#history-rows")).to_contain_text(f"replay of {first[:8]}")
    # The trigger filter offers backfills and replays too (it had Schedule and Manual).
    page.locator("#f-trigger").select_option("REPLAY")
    page.locator("#f-trigger").evaluate("e => e.form.requestSubmit()")
    expect(page.locator("#history-rows tr")).to_have_count(1)
    page.locator("#f-trigger").select_option("BACKFILL")
    page.locator("#f-trigger").evaluate("e => e.form.requestSubmit()")
    expect(page.locator("#history-rows tr")).to_have_count(3)

    # A range in the future is refused on the form, naming the field.
    page.goto(f"{console_server.url}/console/tasks/{task['id']}/backfill")
    page.get_by_label("From (included)").fill(_rfc(hour))
    page.get_by_label("To (excluded, not in the future)").fill(
        _rfc(hour + timedelta(hours=5)))
    page.locator("#backfill-check").click()
    expect(page.locator("#backfill-error")).to_contain_text("to: must not be in the future")
