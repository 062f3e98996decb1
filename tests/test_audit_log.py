"""The audit log over a scripted full run (issue 16): every change made through the REST
API (as root, an admin's token, an operator's token), the CLI and the console, with the
console's logins and a failed one, leaves exactly one entry naming the right actor, and no
password, token or app secret appears in the audit table, anywhere in the database, or in
any answer but the one that created it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from apicron.domain.access import Actor
from apicron.domain.accounts import TokenCreate, UserCreate, UserUpdate
from apicron.server import open_store
from apicron.services import audit, console_sessions, tokens, users
from apicron.services.context import AccessPolicy
from apicron.services.retention import prune_once
from apicron.settings import load_settings
from tests.access_helpers import PASSWORD, Person, console_login, csrf_of, make_user
from tests.conftest import World, unique
from tests.servers import ADMIN_TOKEN, ApicronProcess

Expected = tuple[str, str, str | None, str, str, str | None]


class Recorder:
    """Every answer the test gets, as (what was asked, body)."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str]] = []

    def hooks(self) -> dict[str, list[Any]]:
        def record(response: httpx.Response) -> None:
            response.read()
            request = response.request
            self.answers.append((f"{request.method} {request.url.path}", response.text))

        return {"response": [record]}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def client(server: ApicronProcess, token: str | None, recorder: Recorder) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30,
                        event_hooks=recorder.hooks())


def cli(server: ApicronProcess, token: str, *args: str) -> str:
    env = {**os.environ, "APICRON_URL": server.url, "APICRON_TOKEN": token}
    env.pop("APICRON_ADMIN_TOKEN", None)
    result = subprocess.run([sys.executable, "-m", "apicron", *args], env=env,
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def stored_text(server: ApicronProcess) -> tuple[str, str]:
    """The audit table's rows and the whole database, as text."""
    url = server.env.get("APICRON_DATABASE_URL")
    if url is None:
        path = server.data_dir / "apicron.db"
        with sqlite3.connect(path) as db:
            audit = repr(db.execute("SELECT * FROM audit_log").fetchall())
        raw = b"".join(p.read_bytes() for p in server.data_dir.glob("apicron.db*"))
        return audit, raw.decode("latin-1")
    with psycopg.connect(url) as db:
        audit = repr(db.execute("SELECT * FROM audit_log").fetchall())
        tables = [r[0] for r in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        everything = "".join(
            repr(db.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables)
    return audit, everything


@pytest.fixture
def people(fresh_server: ApicronProcess) -> Iterator[dict[str, Person]]:
    with fresh_server.client() as root:
        yield {role: make_user(root, role) for role in ("admin", "operator", "viewer")}


def test_every_change_leaves_one_entry_with_its_actor_and_no_secret_anywhere(
    fresh_server: ApicronProcess, people: dict[str, Person], recorder: Recorder,
) -> None:
    server = fresh_server
    admin, operator, viewer = people["admin"], people["operator"], people["viewer"]
    expected: list[Expected] = []
    for person in people.values():  # made by root in the fixture
        expected += [("root", "root", None, "create", "user", person.id),
                     ("root", "root", None, "create", "token", person.token_id)]
    secrets = {ADMIN_TOKEN, PASSWORD} | {p.token for p in people.values()}
    created_in: dict[str, str] = {}  # secret -> the only answer that may show it

    def _token_name(person: Person) -> str:
        with server.client() as root:
            tokens = root.get(f"/v1/users/{person.id}/tokens").json()["items"]
        return str(next(t["name"] for t in tokens if t["id"] == person.token_id))

    names = {p.username: _token_name(p) for p in people.values()}

    def as_token(person: Person) -> tuple[str, str, str]:
        return person.username, "token", names[person.username]

    with client(server, admin.token, recorder) as a, \
            client(server, operator.token, recorder) as o:
        w_admin, w_op = World(a), World(o)
        w_admin.ok(a.put("/v1/instance", json={"timezone": "Europe/Berlin"}))
        expected.append((*as_token(admin), "update", "instance", None))
        owner, caller = w_admin.app(), w_admin.app()
        expected += [(*as_token(admin), "create", "app", owner["id"]),
                     (*as_token(admin), "create", "app", caller["id"])]
        reset = w_admin.ok(a.post(f"/v1/apps/{owner['id']}/reset-secret"))
        expected.append((*as_token(admin), "reset-secret", "app", owner["id"]))
        for app in (owner, caller, reset):
            secrets.add(app["secret"])
            created_in[app["secret"]] = app["id"]

        # a channel: its URLs are credentials (their paths here), its secret shown once
        hook, moved = (f"http://127.0.0.1:9/hook/{unique('credential')}" for _ in range(2))
        secrets |= {hook, moved}
        channel = w_admin.ok(a.post("/v1/channels", json={
            "name": unique("chan"), "kind": "webhook", "url": hook}), 201)
        secrets.add(channel["secret"])
        created_in[channel["secret"]] = channel["id"]
        expected.append((*as_token(admin), "create", "channel", channel["id"]))
        refused = o.post("/v1/channels", json={"name": unique("chan"), "kind": "webhook",
                                               "url": moved})
        assert refused.status_code == 403 and "admin" in refused.json()["error_msg"]
        w_admin.ok(a.put(f"/v1/channels/{channel['id']}",
                         json={"url": moved, "description": "on call"}))
        expected.append((*as_token(admin), "update", "channel", channel["id"]))
        w_admin.ok(a.post(f"/v1/channels/{channel['id']}/test"))  # nothing listens on :9
        expected.append((*as_token(admin), "test", "channel", channel["id"]))
        w_admin.ok(a.delete(f"/v1/channels/{channel['id']}"), 204)
        expected.append((*as_token(admin), "delete", "channel", channel["id"]))

        group = w_op.group(owner)
        expected.append((*as_token(operator), "create", "group", group["id"]))
        api = w_op.ok(o.post("/v1/apis", json={
            "group_id": group["id"], "name": unique("api"), "method": "POST",
            "path": f"/{unique('p')}", "backend_url": "http://127.0.0.1:9/x", "publish": True,
        }), 201)
        expected.append((*as_token(operator), "create", "api", api["id"]))
        draft = w_op.api(group, publish=False)
        expected.append((*as_token(operator), "create", "api", draft["id"]))
        w_op.ok(o.post(f"/v1/apis/{draft['id']}/publish"))
        w_op.ok(o.post(f"/v1/apis/{draft['id']}/unpublish"))
        expected += [(*as_token(operator), "publish", "api", draft["id"]),
                     (*as_token(operator), "unpublish", "api", draft["id"])]
        grant = w_op.grant(caller, api)
        expected.append((*as_token(operator), "grant", "grant", grant["id"]))
        task = w_op.task(owner, api)
        expected.append((*as_token(operator), "create", "task", task["id"]))
        w_op.ok(o.put(f"/v1/tasks/{task['id']}", json={"description": "nightly"}))
        w_op.ok(o.post(f"/v1/tasks/{task['id']}/start"))
        w_op.ok(o.post(f"/v1/tasks/{task['id']}/run"), 202)
        w_op.ok(o.post(f"/v1/tasks/{task['id']}/stop"))
        expected += [(*as_token(operator), action, "task", task["id"])
                     for action in ("update", "start", "run", "stop")]
        w_op.ok(o.delete(f"/v1/app-auths/{grant['id']}"), 204)
        w_op.ok(o.delete(f"/v1/apis/{draft['id']}"), 204)
        expected += [(*as_token(operator), "revoke", "grant", grant["id"]),
                     (*as_token(operator), "delete", "api", draft["id"])]
        # no change, no entry
        w_op.ok(o.put(f"/v1/tasks/{task['id']}", json={"description": "nightly"}))

        # the CLI, with the operator's token
        cli_task = json.loads(cli(server, operator.token, "task", "create", unique("cli"),
                                  "--app", owner["name"], "--api", api["id"], "--cron",
                                  "0 0 12 ? * 6#3"))
        cli(server, operator.token, "task", "start", cli_task["name"])
        expected += [(*as_token(operator), "create", "task", cli_task["id"]),
                     (*as_token(operator), "start", "task", cli_task["id"])]

    # the console: a failed login, then the operator's session stops and deletes a task
    with httpx.Client(base_url=server.url, timeout=30,
                      event_hooks=recorder.hooks()) as browser:
        assert console_login(server, operator.username, "not the password!",
                             browser).status_code == 401
        expected.append((operator.username, "user", None, "login-failed", "session", None))
        assert console_login(server, operator.username, PASSWORD, browser).status_code == 303
        expected.append((operator.username, "user", None, "login", "session", None))
        csrf = csrf_of(browser.get("/console/tasks"))
        for action in ("stop", "delete"):
            done = browser.post(f"/console/tasks/{cli_task['id']}/{action}",
                                data={"csrf_token": csrf})
            assert done.status_code == 303
            expected.append((operator.username, "user", None, action, "task", cli_task["id"]))
        assert "deleted" in browser.get("/console/tasks").text
        browser.post("/console/logout", data={"csrf_token": csrf})
        expected.append((operator.username, "user", None, "logout", "session", None))

    # users and tokens, as root and as the admin
    with client(server, ADMIN_TOKEN, recorder) as root, \
            client(server, admin.token, recorder) as a:
        assert a.put(f"/v1/users/{viewer.id}", json={"role": "operator",
                                                     "password": "another long one!"}).is_success
        secrets.add("another long one!")
        expected.append((*as_token(admin), "update", "user", viewer.id))
        assert root.delete(f"/v1/tokens/{operator.token_id}").status_code == 204
        expected.append(("root", "root", None, "revoke", "token", operator.token_id))
        assert a.delete(f"/v1/users/{viewer.id}").status_code == 204
        expected.append((*as_token(admin), "delete", "user", viewer.id))

        page = root.get("/v1/audit", params={"limit": 500}).json()
    entries = list(reversed(page["items"]))
    got = [(e["actor"], e["actor_kind"], e["token_name"], e["action"], e["resource_type"],
            e["resource_id"]) for e in entries]
    assert got == expected
    assert page["total"] == len(expected)
    assert all(e["address"] == "127.0.0.1" for e in entries)
    by_action = {(e["action"], e["resource_type"], e["resource_id"]): e for e in entries}
    start = by_action[("start", "task", task["id"])]["changes"]
    assert start["status"] == {"before": "INITIALIZED", "after": "STARTED"}
    instance = by_action[("update", "instance", None)]["changes"]
    assert instance == {"timezone": {"before": "UTC", "after": "Europe/Berlin"}}
    assert by_action[("reset-secret", "app", owner["id"])]["changes"] == {
        "secret": {"before": "[redacted]", "after": "[redacted]"}}
    assert by_action[("update", "user", viewer.id)]["changes"]["password"] == {
        "before": "[redacted]", "after": "[redacted]"}
    made = by_action[("create", "channel", channel["id"])]["changes"]
    assert made["url"] == made["secret"] == {"before": None, "after": "[redacted]"}
    changed = by_action[("update", "channel", channel["id"])]["changes"]
    assert changed["url"] == {"before": "[redacted]", "after": "[redacted]"}
    assert changed["description"]["after"] == "on call"
    assert set(by_action[("delete", "channel", channel["id"])]["changes"]) >= {"url", "name"}

    # no secret in the audit table, no password or token anywhere in the database
    audit_rows, database = stored_text(server)
    for secret in secrets:
        assert secret not in audit_rows
        if secret not in created_in:  # app secrets are stored encrypted, the rest hashed
            assert secret not in database
    # and none in any answer but the one that made it
    token_answers = {p.token: p.token_id for p in people.values()}
    for asked, body in recorder.answers:
        for secret in secrets:
            if secret in body:
                owner_id = created_in.get(secret) or token_answers.get(secret)
                assert owner_id is not None and owner_id in body, (asked, body[:300])
                assert asked.endswith(("/reset-secret", "/v1/apps", "/tokens",
                                       "/v1/channels")), asked


def test_audit_filters_and_paging(fresh_server: ApicronProcess) -> None:
    with fresh_server.client() as root:
        person = make_user(root, "operator")
        acting = person.client(fresh_server)
        world = World(acting)
        app, api = World(root).setup()
        tasks = [world.task(app, api) for _ in range(3)]
        for task in tasks:
            world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        started = root.get("/v1/audit", params={"actor": person.username, "action": "start"})
        assert [e["resource_id"] for e in started.json()["items"]] == [
            t["id"] for t in reversed(tasks)]
        one = root.get("/v1/audit", params={"resource_type": "task", "resource_id":
                                            tasks[0]["id"]}).json()
        assert [e["action"] for e in one["items"]] == ["start", "create"]
        second = root.get("/v1/audit", params={"action": "start", "limit": 1, "offset": 1})
        assert second.json()["total"] == 3 and len(second.json()["items"]) == 1
        last = started.json()["items"][0]["at"]
        later = root.get("/v1/audit", params={"from": last, "action": "start"}).json()
        assert later["total"] >= 1
        bad = root.get("/v1/audit", params={"from": last, "to": last})
        assert bad.status_code == 400 and bad.json()["field"] == "to"
        # a viewer may not read it; nobody may delete from it
        viewer = make_user(root, "viewer")
        with viewer.client(fresh_server) as v:
            refused = v.get("/v1/audit")
            assert refused.status_code == 403 and "operator" in refused.json()["error_msg"]
        assert root.delete("/v1/audit").status_code == 405
        acting.close()


def test_retention_prunes_old_entries_ended_sessions_and_long_expired_tokens(
    tmp_path: Path,
) -> None:
    """In process, with a driven clock: only age removes an audit entry."""
    now = [datetime.fromisoformat("2026-12-01T09:00:00+00:00")]
    base = open_store(load_settings({"APICRON_DATA_DIR": str(tmp_path)}))
    ctx = replace(base, clock=lambda: now[0], access=AccessPolicy(
        audit_retention=timedelta(days=30), session_idle=timedelta(hours=1)))
    try:
        user = users.create_user(ctx, UserCreate(username="ret", role="viewer",
                                                 password=PASSWORD))
        tokens.create_token(ctx, user.id, TokenCreate(
            name="short", expires_at=now[0] + timedelta(days=1)))
        acting = replace(ctx, actor=Actor(kind="user", name="ret", role="viewer",
                                          user_id=user.id))
        console_sessions.open_session(acting, acting.actor)
        assert prune_once(ctx) == {"audit": 0, "sessions": 0, "failures": 0, "tokens": 0}
        now[0] += timedelta(days=32)
        users.update_user(ctx, user.id, UserUpdate(display_name="Kept"))  # a fresh entry
        removed = prune_once(ctx)
        assert removed["sessions"] == 1 and removed["tokens"] == 1
        assert removed["audit"] == 3  # user created, token created, login
        left = audit.list_audit(ctx, limit=50).items
        assert [(e.action, e.resource_type) for e in left] == [("update", "user")]
    finally:
        base.store.close()
