"""Secrets never leak: a full run of a fresh instance, then a grep for every app secret and
the admin token in everything it left behind.

The run: apps, a group, APIs, a grant, tasks that fire through the gateway with app
credentials (owned and granted), failing tasks, manual runs, gateway calls by app secret,
by signature and with wrong credentials, a secret reset while tasks fire, the console's
login and pages. Then: the server log, the database file (SQLite), the executions and their
attempts, what the backend received, and every API response body and header. The only
places a secret may appear are the create and reset-secret answers, and only its own. The
occurrence keys derived from the secrets appear nowhere, and the occurrence signatures the
backend received (and echoed into its answers) nowhere but at the backend.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from apicron.signing import occurrence_key, sign_request
from tests.alert_helpers import WebhookReceiver
from tests.conftest import World, new_database, unique
from tests.reliability_helpers import Recorder, wait_for
from tests.servers import ADMIN_TOKEN, ApicronProcess, free_port
from tests.threaded_server import ThreadedServer


class EchoBackend(ThreadedServer):
    """Answers every request with the headers and body it received (a careless backend);
    ``/fail`` answers 500 the same way."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.BaseRequest) -> web.Response:
        body = (await request.read()).decode("utf-8", "replace")
        echo = json.dumps({"target": request.raw_path, "headers": list(request.headers.items()),
                           "body": body})
        self.received.append(echo)
        return web.Response(status=500 if "/fail" in request.path else 200, text=echo)


@pytest.fixture
def fresh_server(
    request: pytest.FixtureRequest, database: str, tmp_path: Path
) -> Iterator[ApicronProcess]:
    """A server of its own logging at debug: every line it can write is searched, the
    management API's access log (off at info) included."""
    env = {**new_database(request, database), "APICRON_LOG_LEVEL": "debug"}
    process = ApicronProcess(tmp_path / "data", env).start()
    yield process
    process.stop()


@pytest.fixture
def echo() -> Iterator[EchoBackend]:
    backend = EchoBackend().start()
    yield backend
    backend.stop()


def hw(app: dict[str, Any]) -> dict[str, str]:
    return {"X-HW-ID": app["key"], "X-HW-AppKey": app["secret"]}


def console_login(client: httpx.Client) -> None:
    page = client.get("/console/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    r = client.post("/console/login", data={"password": ADMIN_TOKEN, "csrf_token": match[1],
                                            "next": ""})
    assert r.status_code == 303, r.text


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clients(
    fresh_server: ApicronProcess, recorder: Recorder
) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    """The admin's API client, a gateway client and a console (browser-like) client."""
    server = fresh_server
    with (
        httpx.Client(base_url=server.url, timeout=30, event_hooks=recorder.hook(),
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin,
        httpx.Client(base_url=f"http://127.0.0.1:{server.gateway_port}", timeout=30,
                     event_hooks=recorder.hook()) as gw,
        httpx.Client(base_url=server.url, timeout=30, event_hooks=recorder.hook()) as console,
    ):
        yield admin, gw, console


def test_no_secret_or_token_leaves_a_trace_but_in_its_own_create_and_reset_answers(
    fresh_server: ApicronProcess, database: str, echo: EchoBackend, recorder: Recorder,
    clients: tuple[httpx.Client, httpx.Client, httpx.Client],
) -> None:
    server = fresh_server
    admin, gw, console = clients
    world = World(admin)

    owner, caller = world.app(), world.app()
    group = world.group(owner)
    api = world.api(group, method="POST", path=f"/{unique('p')}/{{id}}",
                    backend_url=echo.url("/ok/{id}"))
    failing = world.api(group, method="POST", path=f"/{unique('f')}",
                        backend_url=echo.url("/fail"))
    down = world.api(group, method="POST", path=f"/{unique('d')}",
                     backend_url=f"http://127.0.0.1:{free_port()}/down")
    world.grant(caller, api)
    query = [{"name": "id", "value": "7"}]
    fired = [
        world.task(owner, api, cron_expression="* * * * * ?", request={"query": query}),
        world.task(caller, api, cron_expression="* * * * * ?", request={
            "query": query,
            "headers": [{"name": "X-Tenant", "value": "acme"}],
            "body": {"content_type": "application/json", "content": '{"n": 1}'},
        }),
        world.task(owner, failing, cron_expression="* * * * * ?", max_retries=1),
    ]
    world.task(owner, down)  # never started; run by hand below
    secrets = {ADMIN_TOKEN, owner["secret"], caller["secret"]}
    try:
        for task in fired:
            world.ok(admin.post(f"/v1/tasks/{task['id']}/start"))
        for task in admin.get("/v1/tasks").json()["items"]:
            world.ok(admin.post(f"/v1/tasks/{task['id']}/run"), 202)

        target = api["path"].replace("{id}", "1")
        assert gw.post(target, headers=hw(owner)).status_code == 200
        assert gw.post(target, headers=hw(caller)).status_code == 200
        url = f"http://127.0.0.1:{server.gateway_port}{target}?q=1"
        signed = sign_request("POST", url, {}, b"{}", key=owner["key"], secret=owner["secret"])
        assert gw.post(target + "?q=1", headers=signed, content=b"{}").status_code == 200
        wrong = {"X-HW-ID": owner["key"], "X-HW-AppKey": caller["secret"]}
        assert gw.post(target, headers=wrong).status_code == 401
        not_granted = failing["path"]
        assert gw.post(not_granted, headers=hw(caller)).status_code == 403
        bad_token = httpx.get(f"{server.url}/v1/apps",
                              headers={"Authorization": f"Bearer {owner['secret']}"})
        recorder.hook()["response"][0](bad_token)
        assert bad_token.status_code == 401

        wait_for(lambda: len(echo.received) >= 8, 60, "tasks firing")
        reset = world.ok(admin.post(f"/v1/apps/{owner['id']}/reset-secret"))
        secrets.add(reset["secret"])
        seen = len(echo.received)
        wait_for(lambda: len(echo.received) >= seen + 6, 60, "tasks firing after the reset")
        assert gw.post(target, headers=hw(reset)).status_code == 200
        assert gw.post(target, headers=hw(owner)).status_code == 401
    finally:
        for task in fired:
            admin.post(f"/v1/tasks/{task['id']}/stop")

    console_login(console)
    for page in ("/console/apps", "/console/apis", "/console/tasks", "/console/instance",
                 f"/console/apis/{api['id']}/authorize"):
        assert console.get(page).status_code == 200, page
    for task in admin.get("/v1/tasks").json()["items"]:
        assert console.get(f"/console/tasks/{task['id']}/history").status_code == 200
    for path in ("/v1/apps", "/v1/api-groups", "/v1/apis", "/v1/app-auths", "/v1/tasks",
                 "/v1/instance", "/metrics", "/openapi.json", "/healthz"):
        assert admin.get(path).status_code == 200, path
    histories: list[str] = []
    for task in admin.get("/v1/tasks").json()["items"]:
        page = world.ok(admin.get(f"/v1/tasks/{task['id']}/executions",
                                  params={"limit": 500}))
        for execution in page["items"]:
            histories.append(json.dumps(world.ok(admin.get(f"/v1/executions/{execution['id']}"))))
    server.stop()

    # The run did what it set out to: fires by both apps, failures, attempts with excerpts.
    assert any('"status": "FAILED"' in h and '"error_kind": "HTTP"' in h for h in histories)
    assert any('"error_kind": "CONNECT"' in h for h in histories)
    assert sum('"status": "SUCCEEDED"' in h for h in histories) >= 4
    assert any('"response_excerpt": "{' in h for h in histories)

    allowed = {
        (owner["secret"], "POST", "/v1/apps"), (caller["secret"], "POST", "/v1/apps"),
        (reset["secret"], "POST", f"/v1/apps/{owner['id']}/reset-secret"),
    }
    for exchange in recorder.exchanges:
        path = httpx.URL(exchange.url).path
        for secret in secrets:
            text = exchange.body + json.dumps(exchange.headers)
            if secret in text:
                assert (secret, exchange.method, path) in allowed, (exchange.url, exchange.status)
                assert exchange.status in (200, 201)
    assert len(recorder.exchanges) > 50
    created = [e.body for e in recorder.exchanges if e.status == 201]
    assert any(owner["secret"] in body for body in created)  # the grep sees what was sent

    # Keys derived from app secrets (the occurrence signing key of each API, under each
    # owner secret it had) appear nowhere at all; the occurrence signatures the backend
    # received (and echoed) are redacted from the history and never logged or stored.
    derived = {occurrence_key(secret, each["id"])
               for secret in (owner["secret"], reset["secret"]) for each in (api, failing, down)}
    signatures = {header[1].removeprefix("v1=") for echoed in echo.received
                  for header in json.loads(echoed)["headers"]
                  if header[0].lower() == "x-apicron-occurrence-signature"}
    assert len(signatures) >= 8
    for exchange in recorder.exchanges:
        text = exchange.body + json.dumps(exchange.headers)
        assert not [key for key in derived if key in text], exchange.url

    log = server.log()
    assert "apicron.gateway.access" in log and "POST /v1/apps" in log
    sources = {"server log": log, "executions": "\n".join(histories),
               "backend": "\n".join(echo.received)}
    if database == "sqlite":
        files = sorted(p for p in server.data_dir.iterdir() if p.name.startswith("apicron.db"))
        raw = b"".join(p.read_bytes() for p in files)
        assert owner["key"].encode() in raw  # the file is the live database
        sources["database file"] = raw.decode("latin-1")
    for where, text in sources.items():
        for secret in secrets | derived:
            assert secret not in text, f"a secret is in the {where}"
        if where != "backend":  # the backend is sent them, by design
            for signature in signatures:
                assert signature not in text, f"an occurrence signature is in the {where}"


def test_channel_urls_and_secrets_leave_no_trace_but_the_secret_in_its_create_answer(
    fresh_server: ApicronProcess, database: str, recorder: Recorder,
    clients: tuple[httpx.Client, httpx.Client, httpx.Client],
) -> None:
    """Issue 14: a webhook's URL (with a token in its query) and signing secret, and an
    Apprise URL with a password and a token in its path, after alerts were delivered,
    retried and tested: nowhere in the log, the database file, any API answer (history,
    channels, alerts, /metrics, the console) but the secret in its create answer."""
    server = fresh_server
    admin, _, console = clients
    world = World(admin)
    receiver = WebhookReceiver().start()
    token, password, path_token = (f"tok{unique('x')}Zq81", f"pw{unique('y')}Kv52",
                                   f"pt{unique('z')}Rm33")
    webhook_url = f"{receiver.url}?token={token}"
    apprise_url = f"json://alerts:{password}@127.0.0.1:{receiver.port}/apprise/{path_token}"
    try:
        hook = world.ok(admin.post("/v1/channels", json={
            "name": unique("hook"), "kind": "webhook", "url": webhook_url}), 201)
        receiver.state.secret = hook["secret"]
        other = world.ok(admin.post("/v1/channels", json={
            "name": unique("json"), "kind": "apprise", "url": apprise_url}), 201)
        receiver.state.mode = "fail"  # the first deliveries fail and are retried
        app, api = world.setup(backend_url=f"http://127.0.0.1:{free_port()}/down")
        task = world.task(app, api, cron_expression="* * * * * ?",
                          alerts={"channel_ids": [hook["id"], other["id"]]})
        world.ok(admin.post(f"/v1/tasks/{task['id']}/start"))
        wait_for(lambda: receiver.state.refused >= 2, 30, "failed deliveries")
        receiver.state.mode = "accept"
        wait_for(lambda: len(receiver.state.deliveries) >= 1 and len(receiver.state.others) >= 1,
                 60, "deliveries after the retry")
        for channel in (hook, other):
            assert world.ok(admin.post(f"/v1/channels/{channel['id']}/test"))["ok"] is True
        world.ok(admin.post(f"/v1/tasks/{task['id']}/stop"))
        console_login(console)
        for page in ("/console/tasks", f"/console/tasks/{task['id']}/history"):
            assert console.get(page).status_code == 200, page
        for path in ("/v1/channels", f"/v1/channels/{hook['id']}", f"/v1/channels/{other['id']}",
                     "/v1/alerts", f"/v1/tasks/{task['id']}", "/metrics", "/openapi.json"):
            assert admin.get(path).status_code == 200, path
        history = world.ok(admin.get("/v1/alerts", params={"limit": 500}))["items"]
    finally:
        receiver.state.mode = "accept"
        receiver.stop()
        server.stop()

    assert {a["status"] for a in history} == {"SENT"} and len(history) >= 2
    assert any(a["attempts"] >= 2 for a in history)
    assert receiver.state.deliveries[0].signed  # the secret worked, and is secret
    secrets = {token, password, path_token, hook["secret"], webhook_url, apprise_url}
    for exchange in recorder.exchanges:
        text = exchange.body + json.dumps(exchange.headers)
        for secret in secrets:
            if secret in text:
                assert (secret, exchange.method, httpx.URL(exchange.url).path, exchange.status) == (
                    hook["secret"], "POST", "/v1/channels", 201), exchange.url
    sources = {"server log": server.log()}
    if database == "sqlite":
        files = sorted(p for p in server.data_dir.iterdir() if p.name.startswith("apicron.db"))
        sources["database file"] = b"".join(p.read_bytes() for p in files).decode("latin-1")
        assert hook["name"] in sources["database file"]  # the grep reads the live database
    for where, text in sources.items():
        for secret in secrets:
            assert secret not in text, f"a channel secret is in the {where}"
