"""API tokens and console sessions across restarts and nodes (issue 16).

Nothing about a token or a session is cached in a process: a token revoked or expired on
one PostgreSQL node is refused by another at its next request, a session opened on one
node serves another, and a session outlives a restart of the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.access_helpers import PASSWORD, console_login, csrf_of, make_user
from tests.conftest import unique
from tests.pg_cluster import PostgresCluster
from tests.servers import SECRET_KEY, ApicronProcess


def wait_until(check: object, what: str, timeout: float = 60) -> None:
    """Poll ``check()`` until it is true (no timing is asserted: the limit only ends a
    test that would otherwise hang)."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"still not {what} after {timeout} s"
        time.sleep(0.2)


@pytest.fixture
def two_nodes(postgres: PostgresCluster, tmp_path: Path) -> Iterator[
        tuple[ApicronProcess, ApicronProcess]]:
    """An all-in-one node and a management-API node on one PostgreSQL database."""
    env = {"APICRON_DATABASE_URL": postgres.create_database(), "APICRON_SECRET_KEY": SECRET_KEY}
    first = ApicronProcess(tmp_path / "a", env).start()
    second = ApicronProcess(tmp_path / "b", env, role="api")
    try:
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()


def test_a_token_revoked_or_expired_on_one_node_is_refused_by_the_other_at_once(
    two_nodes: tuple[ApicronProcess, ApicronProcess],
) -> None:
    a, b = two_nodes
    with a.client() as root_a:
        person = make_user(root_a, "operator")
        soon = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
        short = root_a.post(f"/v1/users/{person.id}/tokens",
                            json={"name": unique("short"), "expires_at": soon.isoformat()})
        assert short.status_code == 201, short.text
    with person.client(b) as on_b, httpx.Client(
            base_url=b.url, headers={"Authorization": f"Bearer {short.json()['token']}"},
            timeout=30) as short_on_b:
        assert on_b.get("/v1/tasks").status_code == 200
        assert short_on_b.get("/v1/me").json()["token_name"] == short.json()["name"]

        with person.client(a) as on_a:  # the owner revokes it on the other node
            assert on_a.delete(f"/v1/tokens/{person.token_id}").status_code == 204
        refused = on_b.get("/v1/tasks")  # the very next request
        assert refused.status_code == 401, refused.text
        assert refused.json()["error_code"] == "UNAUTHORIZED"

        wait_until(lambda: datetime.now(UTC) > soon, "past the expiry")
        expired = short_on_b.get("/v1/me")
        assert expired.status_code == 401, expired.text
        assert "expired at" in expired.json()["error_msg"]

    with a.client() as root_a:  # a disabled user's tokens stop too
        other = make_user(root_a, "viewer")
        with other.client(b) as other_on_b:
            assert other_on_b.get("/v1/me").status_code == 200
            assert root_a.put(f"/v1/users/{other.id}", json={"disabled": True}).is_success
            refused = other_on_b.get("/v1/me")
            assert refused.status_code == 401 and "disabled" in refused.json()["error_msg"]


def test_a_console_session_opened_on_one_node_serves_the_other_and_logs_out_everywhere(
    two_nodes: tuple[ApicronProcess, ApicronProcess],
) -> None:
    a, b = two_nodes
    with a.client() as root:
        person = make_user(root, "viewer")
    browser_a = httpx.Client(base_url=a.url, timeout=30)
    browser_b = httpx.Client(base_url=b.url, timeout=30)
    try:
        assert console_login(a, person.username, PASSWORD, browser_a).status_code == 303
        browser_b.cookies.update(browser_a.cookies)  # the same browser behind a balancer
        page = browser_b.get("/console/tasks")
        assert page.status_code == 200 and person.username in page.text
        # a second session of the same user, elsewhere
        elsewhere = httpx.Client(base_url=b.url, timeout=30)
        assert console_login(b, person.username, PASSWORD, elsewhere).status_code == 303
        account = browser_b.get("/console/account")
        out = browser_b.post("/console/logout-everywhere",
                             data={"csrf_token": csrf_of(account)})
        assert out.status_code == 303
        for client in (browser_a, elsewhere):
            answer = client.get("/console/tasks")
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"].startswith("/console/login")
        elsewhere.close()
    finally:
        browser_a.close()
        browser_b.close()


def test_a_console_session_survives_a_restart_and_ends_when_idle(
    fresh_server: ApicronProcess,
) -> None:
    server = fresh_server
    with server.client() as root:
        person = make_user(root, "operator")
    browser = httpx.Client(base_url=server.url, timeout=30)
    try:
        assert console_login(server, person.username, PASSWORD, browser).status_code == 303
        assert browser.get("/console/tasks").status_code == 200
        server.stop()
        server.start()
        page = browser.get("/console/tasks")
        assert page.status_code == 200, page.headers
        assert f'id="whoami-name">{person.username}<' in page.text
        assert 'id="whoami-role">operator<' in page.text
    finally:
        browser.close()


@pytest.fixture
def short_sessions(tmp_path: Path) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path / "data", {"APICRON_SESSION_IDLE": "3",
                                                 "APICRON_SESSION_MAX": "10"}).start()
    yield process
    process.stop()


def test_a_session_ends_after_the_idle_and_the_absolute_timeouts(
    short_sessions: ApicronProcess,
) -> None:
    server = short_sessions
    with server.client() as root:
        person = make_user(root, "viewer")
    idle = httpx.Client(base_url=server.url, timeout=30)
    busy = httpx.Client(base_url=server.url, timeout=30)
    try:
        assert console_login(server, person.username, PASSWORD, idle).status_code == 303
        started = time.monotonic()
        assert console_login(server, person.username, PASSWORD, busy).status_code == 303
        # The busy one stays in as long as it is used (until the absolute timeout); the
        # idle one, unused past the idle timeout, is out.
        while time.monotonic() - started < 7:
            assert busy.get("/console/tasks").status_code == 200
            time.sleep(0.5)
        assert idle.get("/console/tasks").status_code == 303
        wait_until(lambda: busy.get("/console/tasks").status_code == 303,
                   "logged out by the absolute timeout")
    finally:
        idle.close()
        busy.close()
