"""Sign-in throttling (issue 16): failures counted per username and per address in the
database; past half the limit each failure is slowed, at the limit the username or address
is refused for a while, the right password included, and then let in again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from apicron.domain.access import ANONYMOUS
from apicron.server import open_store
from apicron.services.authentication import SignInRefused, TooManyAttempts, sign_in
from apicron.services.context import AccessPolicy, Context
from apicron.settings import load_settings
from tests.access_helpers import PASSWORD, console_login, make_user
from tests.servers import ADMIN_TOKEN, ApicronProcess
from tests.test_access_nodes import wait_until

LIMITS = {"APICRON_LOGIN_MAX_FAILURES": "10", "APICRON_LOGIN_WINDOW": "600",
          "APICRON_LOGIN_LOCKOUT": "3", "APICRON_LOGIN_SLOWDOWN": "0.05"}


@pytest.fixture
def throttled(request: pytest.FixtureRequest, database: str,
              tmp_path: Path) -> Iterator[ApicronProcess]:
    from tests.conftest import new_database

    process = ApicronProcess(tmp_path / "data", {**new_database(request, database),
                                                 **LIMITS}).start()
    yield process
    process.stop()


def test_the_11th_quick_wrong_password_is_refused_and_the_right_one_gets_in_after(
    throttled: ApicronProcess,
) -> None:
    server = throttled
    with server.client() as root:
        person = make_user(root, "operator")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        for attempt in range(10):
            r = console_login(server, person.username, f"wrong guess {attempt:02d}!", browser)
            assert r.status_code == 401, (attempt, r.text)
            assert "Wrong username or password." in r.text
        locked = console_login(server, person.username, "wrong guess 10!", browser)
        assert locked.status_code == 429, locked.text  # the 11th is not even checked
        assert "Too many failed sign-ins" in locked.text
        assert int(locked.headers["retry-after"]) >= 1
        assert console_login(server, person.username, PASSWORD, browser).status_code == 429
        # the lock is on the username and on the address: root from here is refused too
        assert console_login(server, "", ADMIN_TOKEN, browser).status_code == 429
        wait_until(lambda: console_login(server, person.username, PASSWORD,
                                         browser).status_code == 303,
                   "let in after the lock-out")
        assert browser.get("/console/tasks").status_code == 200
    with server.client() as root:
        entries = root.get("/v1/audit", params={"limit": 100}).json()["items"]
    failed = [e for e in entries if e["action"] == "login-failed"]
    assert len(failed) == 10 and {e["actor"] for e in failed} == {person.username}
    assert all(e["address"] == "127.0.0.1" for e in failed)
    lockouts = {e["resource_id"] for e in entries if e["action"] == "lockout"}
    assert lockouts == {f"user:{person.username}", "address:127.0.0.1"}
    assert [e["actor"] for e in entries if e["action"] == "login"][:1] == [person.username]


def test_wrong_bearer_tokens_lock_the_address_out_then_let_it_in_again(
    throttled: ApicronProcess,
) -> None:
    server = throttled
    for attempt in range(10):
        with server.client(token=f"apc_not-a-token-{attempt}") as guess:
            r = guess.get("/v1/tasks")
            assert r.status_code == 401, (attempt, r.text)
    with server.client() as root:
        locked = root.get("/v1/tasks")  # the right token, from the locked address
        assert locked.status_code == 429, locked.text
        assert locked.json()["error_code"] == "TOO_MANY_ATTEMPTS"
        assert int(locked.headers["retry-after"]) >= 1
        wait_until(lambda: root.get("/v1/tasks").status_code == 200, "let in again")


@pytest.fixture
def store_ctx(tmp_path: Path) -> Iterator[Context]:
    ctx = open_store(load_settings({"APICRON_DATA_DIR": str(tmp_path)}))
    yield replace(ctx, actor=ANONYMOUS, access=AccessPolicy(
        login_max_failures=10, login_slowdown_s=2.0, login_lockout=timedelta(minutes=5)))
    ctx.store.close()


def test_failures_past_half_the_limit_are_slowed_and_a_success_clears_the_username(
    store_ctx: Context,
) -> None:
    """In process, with the service's own answers: no timing is measured."""
    admin_token = ADMIN_TOKEN
    delays = []
    for attempt in range(9):
        with pytest.raises(SignInRefused) as refused:
            sign_in(store_ctx, "root", f"wrong-{attempt}", admin_token, f"10.0.0.{attempt}")
        delays.append(refused.value.delay_s)
    assert delays == [0.0] * 5 + [2.0] * 4
    # the right one clears the username's count: the next failure is not slowed
    assert sign_in(store_ctx, "root", admin_token, admin_token, "10.0.1.1").kind == "root"
    with pytest.raises(SignInRefused) as refused:
        sign_in(store_ctx, "root", "wrong", admin_token, "10.0.1.2")
    assert refused.value.delay_s == 0.0


def test_a_locked_username_stays_locked_from_any_address_until_the_lock_ends(
    store_ctx: Context,
) -> None:
    now = [datetime.fromisoformat("2026-12-01T09:00:00+00:00")]
    ctx = replace(store_ctx, clock=lambda: now[0])
    for attempt in range(10):
        with pytest.raises(SignInRefused):
            sign_in(ctx, "", f"wrong-{attempt}", ADMIN_TOKEN, f"10.0.2.{attempt}")
    with pytest.raises(TooManyAttempts) as locked:
        sign_in(ctx, "root", ADMIN_TOKEN, ADMIN_TOKEN, "10.9.9.9")
    assert locked.value.retry_after_s == 300
    now[0] += timedelta(minutes=5, seconds=1)
    assert sign_in(ctx, "root", ADMIN_TOKEN, ADMIN_TOKEN, "10.9.9.9").name == "root"
