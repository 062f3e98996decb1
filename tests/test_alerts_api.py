"""Channels, success conditions and alert rules through the REST API of a real server (on
SQLite and PostgreSQL), and every channel kind delivering a test message to a real
receiver on loopback: apicron's signed webhook, and through Apprise a generic JSON webhook,
ntfy, a Teams (Power Automate workflows) endpoint over HTTPS, and an SMTP server with
STARTTLS and a login (aiosmtpd) receiving the mail (issue 14)."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.alert_helpers import WebhookReceiver
from tests.conftest import World, unique
from tests.servers import free_port
from tests.test_tls import Pki, pki  # noqa: F401 - the fixture
from tests.threaded_server import ThreadedServer


class Recorder(ThreadedServer):
    """Records every request (path, headers, body) and answers 200; over TLS with
    ``tls``."""

    SHUTDOWN_TIMEOUT = 1.0

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.tls = tls
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def _start(self) -> None:
        server = web.Server(self._handle, access_log=None)
        self._runner = web.ServerRunner(server, shutdown_timeout=self.SHUTDOWN_TIMEOUT)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls).start()
        self.port = int(self._runner.addresses[0][1])

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.requests.append((request.path_qs, dict(request.headers), await request.read()))
        return web.Response(status=200, text="{}", content_type="application/json")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    made = Recorder().start()
    yield made
    made.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    made = WebhookReceiver().start()
    yield made
    made.stop()


def channel(world: World, kind: str, url: str, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("chan"), "kind": kind, "url": url, **fields}
    return world.ok(world.client.post("/v1/channels", json=body), 201)  # type: ignore[no-any-return]


def error_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    return [e["field"] for e in response.json()["errors"]]


# --- validation -----------------------------------------------------------------------------


def test_bad_success_conditions_and_alert_rules_are_refused_naming_each_field(
    world: World,
) -> None:
    app, api = world.setup()
    before = world.snapshot()
    body = world.task_body(app, api, success={"jmespath": "items[", "body_regex": "(?<=a)b",
                                              "status_codes": "200-299,99"},
                           alerts={"channel_ids": ["nope"], "repeat_every_s": 5})
    fields = error_fields(world.client.post("/v1/tasks", json=body))
    assert set(fields) >= {"success.status_codes", "alerts.repeat_every_s"}
    body = world.task_body(app, api, success={"jmespath": "items[", "body_regex": "(?<=a)b"},
                           alerts={"channel_ids": ["nope"]})
    response = world.client.post("/v1/tasks", json=body)
    assert set(error_fields(response)) == {"success.jmespath", "success.body_regex",
                                           "alerts.channel_ids[0]"}
    text = response.json()["error_msg"]
    assert "not a valid JMESPath expression" in text and "RE2" in text
    assert "no channel with id 'nope'" in text
    equals_alone = world.task_body(app, api, success={"equals": True})
    assert error_fields(world.client.post("/v1/tasks", json=equals_alone)) == ["success"]
    assert world.snapshot() == before


def test_a_task_keeps_its_success_conditions_and_alert_rules(world: World) -> None:
    app, api = world.setup()
    hook = channel(world, "webhook", "http://127.0.0.1:9/hook")
    success = {"status_codes": "200-299,304", "jmespath": "status", "equals": "ok",
               "body_regex": None, "retry_on_assertion": True}
    alerts = {"channel_ids": [hook["id"]], "on_failure_after": 3, "auto_stop_after": 10}
    task = world.task(app, api, success=success, alerts=alerts)
    assert task["success"] == success
    assert task["alerts"] == {**alerts, "on_recovery": True, "on_missed": False,
                              "no_success_within_s": None, "repeat_every_s": 3600}
    assert task["stop_reason"] is None
    got = world.ok(world.client.get(f"/v1/tasks/{task['id']}"))
    assert got["success"] == task["success"] and got["alerts"] == task["alerts"]
    cleared = world.ok(world.client.put(f"/v1/tasks/{task['id']}",
                                        json={"success": None, "alerts": None}))
    assert cleared["success"] is None and cleared["alerts"] is None


# --- channels -----------------------------------------------------------------------------


def test_a_channel_url_and_secret_are_never_answered_but_masked(world: World) -> None:
    url = "https://hooks.example.com/services/T000/B000/very-secret-token"
    created = channel(world, "webhook", url)
    assert created["url"] == "https://hooks.example.com/****"
    assert len(created["secret"]) >= 32
    slack = channel(world, "apprise", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7")
    assert slack["url"] == "slack://****" and slack.get("secret") is None
    for path in ("/v1/channels", f"/v1/channels/{created['id']}", f"/v1/channels/{slack['id']}"):
        text = world.client.get(path).text
        assert "very-secret-token" not in text and created["secret"] not in text
        assert "TIiajkdnlazkcOXrIdevi7" not in text
    updated = world.ok(world.client.put(f"/v1/channels/{created['id']}",
                                        json={"url": "https://other.example.org/x/y"}))
    assert updated["url"] == "https://other.example.org/****"


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "apprise", "url": "nosuchservice://x/y"}, "url"),
    ({"kind": "apprise", "url": "json://127.0.0.1/x", "secret": "s" * 20}, "secret"),
    ({"kind": "webhook", "url": "ftp://example.com/x"}, "url"),
    ({"kind": "webhook", "url": "http://169.254.169.254/latest"}, "url"),
    ({"kind": "webhook", "url": "http://127.0.0.1/x", "secret": "short"}, "secret"),
    ({"kind": "sms", "url": "http://127.0.0.1/x"}, "kind"),
])
def test_a_bad_channel_is_refused_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = world.client.post("/v1/channels", json={"name": unique("chan"), **body})
    assert error_fields(response)[0] == field


def test_a_channel_alert_rules_name_cannot_be_deleted(world: World) -> None:
    app, api = world.setup()
    used = channel(world, "webhook", "http://127.0.0.1:9/hook")
    task = world.task(app, api, alerts={"channel_ids": [used["id"]]})
    response = world.client.delete(f"/v1/channels/{used['id']}")
    assert response.status_code == 409 and response.json()["error_code"] == "CHANNEL_IN_USE"
    assert task["name"] in response.json()["error_msg"]
    world.ok(world.client.put(f"/v1/tasks/{task['id']}", json={"alerts": None}))
    world.ok(world.client.delete(f"/v1/channels/{used['id']}"), 204)
    assert world.client.get(f"/v1/channels/{used['id']}").status_code == 404


def test_the_instance_default_alert_rules(fresh_server: Any) -> None:
    with fresh_server.client() as client:
        world = World(client)
        hook = channel(world, "webhook", "http://127.0.0.1:9/hook")
        refused = client.put("/v1/instance", json={"default_alerts": {"channel_ids": ["x"]}})
        assert error_fields(refused) == ["default_alerts.channel_ids[0]"]
        rules = {"channel_ids": [hook["id"]], "no_success_within_s": 93600}
        instance = world.ok(client.put("/v1/instance", json={"default_alerts": rules}))
        assert instance["default_alerts"]["no_success_within_s"] == 93600
        assert world.ok(client.put("/v1/instance", json={"name": "renamed"}))[
            "default_alerts"] is not None
        in_use = client.delete(f"/v1/channels/{hook['id']}")
        assert in_use.status_code == 409 and "default_alerts" in in_use.json()["error_msg"]
        assert world.ok(client.put("/v1/instance", json={"default_alerts": None}))[
            "default_alerts"] is None


def test_the_openapi_document_has_channels_alerts_and_the_new_task_fields(
    client: httpx.Client,
) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/v1/channels", "/v1/channels/{channel_id}", "/v1/channels/{channel_id}/test",
                 "/v1/alerts"):
        assert path in schema["paths"]
    components = schema["components"]["schemas"]
    assert {"status_codes", "jmespath", "equals", "body_regex", "retry_on_assertion"} <= set(
        components["SuccessConditions"]["properties"])
    assert "ASSERTION" in json.dumps(components["Attempt"])
    assert {"success", "alerts"} <= set(components["TaskCreate"]["properties"])


# --- every kind, delivering a test message -------------------------------------------------


def test_a_webhook_test_message_is_signed(world: World, receiver: WebhookReceiver) -> None:
    hook = channel(world, "webhook", receiver.url)
    receiver.state.secret = hook["secret"]
    result = world.ok(world.client.post(f"/v1/channels/{hook['id']}/test"))
    assert result["ok"] is True and result["error"] is None
    (delivery,) = receiver.state.deliveries
    assert delivery.signed and delivery.event == "TEST"
    assert delivery.headers["Content-Type"] == "application/json"
    receiver.state.mode = "fail"
    failed = world.ok(world.client.post(f"/v1/channels/{hook['id']}/test"))
    assert failed == {**failed, "ok": False, "error": "the webhook answered HTTP 500"}


def test_apprise_json_and_ntfy_urls_reach_a_loopback_server(
    world: World, recorder: Recorder
) -> None:
    base = f"127.0.0.1:{recorder.port}"
    for url in (f"json://{base}/generic/hook", f"ntfy://{base}/apicron-alerts"):
        made = channel(world, "apprise", url)
        assert world.ok(world.client.post(f"/v1/channels/{made['id']}/test"))["ok"] is True
    (generic_path, _, generic), (ntfy_path, _, ntfy) = recorder.requests
    assert generic_path == "/generic/hook"
    assert "it works" in json.loads(generic)["message"]
    assert ntfy_path.startswith("/apicron-alerts") or b"apicron-alerts" in ntfy
    assert b"it works" in ntfy


def test_apprise_teams_workflows_reach_an_https_server(world: World, pki: Pki) -> None:  # noqa: F811
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(pki.cert), str(pki.key))
    teams = Recorder(tls).start()
    try:
        url = f"workflows://127.0.0.1:{teams.port}/workflow1/signature1?verify=no"
        made = channel(world, "apprise", url)
        result = world.ok(world.client.post(f"/v1/channels/{made['id']}/test"))
        assert result["ok"] is True, result
        ((path, _, body),) = teams.requests
        assert path.startswith("/workflows/workflow1/")
        card = json.loads(body)
        assert "it works" in json.dumps(card) and "adaptive" in json.dumps(card).lower()
    finally:
        teams.stop()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_an_email_channel_sends_through_smtp_with_starttls_and_a_login(
    world: World, pki: Pki, tmp_path: Path  # noqa: F811
) -> None:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(pki.cert), str(pki.key))
    mailbox = _Mailbox()
    logins: list[str] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"mail-password-123"
        logins.append(f"{mechanism}:{ok}")
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=tls,
                            require_starttls=True, authenticator=authenticate,
                            auth_require_tls=True)
    controller.start()
    try:
        url = (f"mailtos://alerts:mail-password-123@127.0.0.1:{port}?mode=starttls&verify=no"
               "&from=apicron@example.com&to=oncall@example.com")
        made = channel(world, "apprise", url)
        assert made["url"] == f"mailtos://127.0.0.1:{port}/****"
        result = world.ok(world.client.post(f"/v1/channels/{made['id']}/test"))
        assert result["ok"] is True, result
        ((sender, recipients, content),) = mailbox.messages
        assert sender == "apicron@example.com" and recipients == ["oncall@example.com"]
        mail = message_from_bytes(content)
        assert "apicron TEST" in str(mail["Subject"])
        assert logins and all(entry.endswith(":True") for entry in logins)
    finally:
        controller.stop()
    asyncio.set_event_loop(None)
