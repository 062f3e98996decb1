"""The console's alert pages in a real browser (issue 14): create a webhook channel (its
secret shown once, its URL masked), send a test message, give a task a failure and a
recovery rule in its form, and see a failing backend's one FAILURE alert and then one
RECOVERY on the Alerts page; a bad JMESPath condition is refused at its section."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, expect

from tests.alert_helpers import WebhookReceiver
from tests.conftest import World, unique
from tests.console_helpers import chromium, console_page, log_in, nav, screenshot
from tests.servers import ApicronProcess
from tests.test_multinode import wait_for
from tests.threaded_server import ThreadedServer


class SwitchBackend(ThreadedServer):
    """Answers ``status`` (500 until told otherwise)."""

    SHUTDOWN_TIMEOUT = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.status = 500
        self.calls = 0

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.calls += 1
        return web.Response(status=self.status, text='{"ok": true}')


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("console-alerts")).start()
    yield process
    process.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with console_page(browser) as p:
        yield p


def test_a_failing_task_alerts_once_then_recovers_and_both_show_in_the_console(
    page: Page, server: ApicronProcess
) -> None:
    receiver = WebhookReceiver().start()
    backend = SwitchBackend().start()
    try:
        log_in(page, server)
        nav(page, "Notification Channels")
        name = unique("oncall")
        page.get_by_label("Name").fill(name)
        page.get_by_label("Kind").select_option("webhook")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Create").click()
        secret = page.locator("#reveal-secret").inner_text()
        assert len(secret) >= 32
        receiver.state.secret = secret
        row = page.locator(f'tr[data-channel="{name}"]')
        expect(row.locator("code")).to_have_text(f"http://127.0.0.1:{receiver.port}/****")
        row.get_by_role("button", name="Send Test").click()
        expect(page.locator(".flash-ok")).to_contain_text(f"Test message sent to {name}")
        assert receiver.events() == ["TEST"] and receiver.state.deliveries[0].signed
        page.reload()
        expect(page.locator("#secret-reveal")).to_have_count(0)
        screenshot(page, "channels")

        with server.client() as client:
            world = World(client)
            app, api = world.setup(backend_url=f"http://127.0.0.1:{backend.port}/job",
                                   method="GET")
            task = world.task(app, api, cron_expression="* * * * * ?")

            page.goto(f"{server.url}/console/tasks/{task['id']}/edit")
            page.get_by_label("JMESPath condition").fill("items[")
            page.get_by_role("button", name="OK").click()
            expect(page.locator("#s-alerts").locator("xpath=..")).to_contain_text(
                "not a valid JMESPath expression")
            page.get_by_label("JMESPath condition").fill("")
            page.locator("#alerts_enabled").check()
            page.get_by_label(name).check()
            page.get_by_label("Alert after N failures in a row").fill("3")
            page.get_by_role("button", name="OK").click()
            expect(page.get_by_role("heading", name="Scheduled Tasks")).to_be_visible()
            rules = world.ok(client.get(f"/v1/tasks/{task['id']}"))["alerts"]
            assert rules["on_failure_after"] == 3 and rules["on_recovery"] is True
            assert len(rules["channel_ids"]) == 1

            world.ok(client.post(f"/v1/tasks/{task['id']}/start"))
            wait_for(lambda: receiver.events() == ["TEST", "FAILURE"], 30, "one failure alert")
            wait_for(lambda: backend.calls >= 5, 30, "more failures")
            assert receiver.events() == ["TEST", "FAILURE"]  # no storm
            backend.status = 200
            wait_for(lambda: receiver.events() == ["TEST", "FAILURE", "RECOVERY"], 30,
                     "the recovery alert")
            world.ok(client.post(f"/v1/tasks/{task['id']}/stop"))
            metrics = client.get("/metrics").text
            assert 'apicron_alerts_sent_total{channel_kind="webhook"} 2.0' in metrics
            assert "apicron_tasks_alerting " in metrics
            assert receiver.url not in metrics and secret not in metrics

        nav(page, "Alert History")
        rows = page.locator("#alerts tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_have_attribute("data-event", "RECOVERY")
        expect(rows.nth(1)).to_have_attribute("data-event", "FAILURE")
        expect(rows.nth(1)).to_contain_text("failed 3 times in a row")
        expect(rows.nth(0)).to_contain_text("SENT")
        screenshot(page, "alerts")
    finally:
        backend.stop()
        receiver.stop()
