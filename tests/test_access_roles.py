"""Roles, over every operation of the OpenAPI document and every service function (issue 16).

The matrix: each operation declares the least role it needs (``x-apicron-role``); a new
operation that declares none fails here. Then every operation is called as a viewer, an
operator, an admin user and root (the admin token): a role below the declared one gets 403
naming the role needed, whatever the body; a role at or above it never gets 403 (bodies
are real, so the call reaches the service, which checks the permission again). Nothing a
viewer or an operator is answered holds a secret.

The services: every public service function taking a context refuses a context that acts
as nobody before doing anything, so the console and in-process callers meet the same
rule as the REST API.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

import apicron.services
from apicron.domain.access import ANONYMOUS, ROLES, Actor, Permission
from apicron.domain.errors import Forbidden
from apicron.server import open_store
from apicron.services.context import Context
from apicron.settings import load_settings
from tests.access_helpers import PASSWORD, Person, console_login, csrf_of, make_user
from tests.conftest import World, unique
from tests.servers import ADMIN_TOKEN, ApicronProcess

RANK: dict[str, int] = {role: i for i, role in enumerate(ROLES)}


class Fixtures:
    """Objects the calls act on: shared ones for reads, fresh ones for each change."""

    def __init__(self, root: httpx.Client):
        self.root = root
        self.world = World(root)
        self.secrets: set[str] = {ADMIN_TOKEN, PASSWORD}
        self.owner = self.app()
        self.group = self.world.group(self.owner)
        self.api = self.world.api(self.group)
        self.task = self.world.task(self.owner, self.api)
        self.execution = self.world.ok(root.post(f"/v1/tasks/{self.task['id']}/run"), 202)
        self.channel = self.channel_made()
        self.calendar = self.calendar_made()

    def calendar_made(self) -> dict[str, Any]:
        calendar: dict[str, Any] = self.world.ok(self.root.post("/v1/calendars", json={
            "name": unique("cal"), "exclude_weekdays": ["SUN"]}), 201)
        return calendar

    def channel_url(self) -> str:
        """A webhook URL on loopback (nothing listens: a test message fails, answered
        200 with ok false) whose path is a credential no answer may show."""
        url = f"http://127.0.0.1:9/hook/{unique('credential')}"
        self.secrets.add(url)
        return url

    def channel_made(self) -> dict[str, Any]:
        channel: dict[str, Any] = self.world.ok(self.root.post("/v1/channels", json={
            "name": unique("chan"), "kind": "webhook", "url": self.channel_url()}), 201)
        self.secrets.add(channel["secret"])
        return channel

    def app(self) -> dict[str, Any]:
        app = self.world.app()
        self.secrets.add(app["secret"])
        return app

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = self.world.ok(self.root.post("/v1/users", json={
            "username": unique("spare"), "role": "viewer"}), 201)
        return user

    def token_of(self, user_id: str) -> str:
        token = self.world.ok(self.root.post(f"/v1/users/{user_id}/tokens",
                                             json={"name": unique("spare")}), 201)
        self.secrets.add(token["token"])
        return str(token["id"])

    def fresh(self, name: str, who: Person | None) -> str:
        """The id for path parameter ``name`` of a change: a new object of its own."""
        w = self.world
        makers: dict[str, Callable[[], Any]] = {
            "app_id": lambda: self.app()["id"],
            "group_id": lambda: w.group(self.owner)["id"],
            "api_id": lambda: w.api(self.group, publish=False)["id"],
            "grant_id": lambda: w.grant(self.app(), self.api)["id"],
            "task_id": lambda: w.task(self.owner, self.api)["id"],
            "execution_id": lambda: self.execution["id"],
            "user_id": lambda: who.id if who else self.user()["id"],
            "token_id": lambda: self.token_of(who.id if who else self.user()["id"]),
            "channel_id": lambda: self.channel_made()["id"],
            "calendar_id": lambda: self.calendar_made()["id"],
        }
        return str(makers[name]())

    def shared(self, name: str, who: Person | None) -> str:
        """The id for path parameter ``name`` of a read: the shared objects."""
        if name in ("grant_id", "user_id"):
            return self.fresh(name, who)
        ids = {"app_id": self.owner["id"], "group_id": self.group["id"],
               "api_id": self.api["id"], "task_id": self.task["id"],
               "execution_id": self.execution["id"], "channel_id": self.channel["id"],
               "calendar_id": self.calendar["id"]}
        return str(ids[name])

    def body(self, key: str) -> Any:
        """A body the service accepts for the operation ``METHOD path`` (KeyError: add one
        for a new operation)."""
        w = self.world
        bodies: dict[str, Callable[[], Any]] = {
            "PUT /v1/instance": lambda: {"name": "apicron"},
            "POST /v1/apps": lambda: {"name": unique("app")},
            "PUT /v1/apps/{app_id}": lambda: {"description": "changed"},
            "POST /v1/api-groups": lambda: {"name": unique("grp"), "app_id": self.owner["id"]},
            "PUT /v1/api-groups/{group_id}": lambda: {"description": "changed"},
            "POST /v1/apis": lambda: {
                "group_id": self.group["id"], "name": unique("api"), "method": "POST",
                "path": f"/{unique('p')}", "backend_url": "http://127.0.0.1:9/x"},
            "PUT /v1/apis/{api_id}": lambda: {"description": "changed"},
            "POST /v1/app-auths": lambda: {"app_id": self.app()["id"],
                                           "api_ids": [self.api["id"]]},
            "POST /v1/tasks": lambda: w.task_body(self.owner, self.api),
            "PUT /v1/tasks/{task_id}": lambda: {"description": "changed"},
            "POST /v1/cron/preview": lambda: {"cron_expression": "0 0 12 * * ?"},
            "POST /v1/users": lambda: {"username": unique("new"), "role": "viewer",
                                       "password": PASSWORD},
            "PUT /v1/users/{user_id}": lambda: {"display_name": "Changed"},
            "POST /v1/users/{user_id}/tokens": lambda: {"name": unique("tok")},
            "PUT /v1/me": lambda: {"display_name": "Changed"},
            "POST /v1/channels": lambda: {"name": unique("chan"), "kind": "webhook",
                                          "url": self.channel_url()},
            "PUT /v1/channels/{channel_id}": lambda: {"url": self.channel_url()},
            "POST /v1/calendars": lambda: {"name": unique("cal"),
                                           "holidays": {"country": "FR"}},
            "PUT /v1/calendars/{calendar_id}": lambda: {"include_dates": ["2027-12-27"]},
            "POST /v1/tasks/bulk/start": lambda: {"filter": {"ids": [self.task["id"]]},
                                                  "dry_run": True},
            "POST /v1/tasks/bulk/stop": lambda: {"filter": {"ids": [self.task["id"]]},
                                                 "dry_run": True},
            "POST /v1/tasks/{task_id}/clone": lambda: {"name": unique("clone")},
            "POST /v1/tasks/{task_id}/stop": lambda: {"note": "paused for the test"},
            "POST /v1/tasks/{task_id}/backfill": lambda: {
                "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "dry_run": True},
        }
        return bodies[key]()


@pytest.fixture
def people(fresh_server: ApicronProcess) -> Iterator[tuple[httpx.Client, dict[str, Person]]]:
    with fresh_server.client() as root:
        yield root, {role: make_user(root, role) for role in ROLES}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items()
            for method, op in item.items()]


def test_every_operation_declares_a_role_and_each_role_gets_exactly_what_it_may(
    fresh_server: ApicronProcess, people: tuple[httpx.Client, dict[str, Person]],
) -> None:
    root, persons = people
    document = root.get("/openapi.json").json()
    undeclared = [f"{m} {p}" for m, p, op in operations(document)
                  if op.get("x-apicron-role") not in ("none", *ROLES)]
    assert not undeclared, f"operations that declare no x-apicron-role: {undeclared}"
    fixtures = Fixtures(root)
    callers: list[tuple[str, Person | None, httpx.Client]] = [
        (role, person, person.client(fresh_server)) for role, person in persons.items()
    ] + [("admin", None, root)]
    for someone in persons.values():
        fixtures.secrets |= {someone.password}
    seen_by: dict[str, list[str]] = {"viewer": [], "operator": []}
    checked = 0
    for method, path, op in operations(document):
        declared = op["x-apicron-role"]
        if declared == "none":
            continue
        for role, person, client in callers:
            params = [p for p in path.split("/") if p.startswith("{")]
            target = path
            for param in params:
                name = param.strip("{}")
                make = fixtures.shared if method == "GET" else fixtures.fresh
                target = target.replace(param, make(name, person))
            key = f"{method} {path}"
            body = fixtures.body(key) if "requestBody" in op else None
            r = client.request(method, target, json=body)
            where = (role, person.username if person else "root", key, r.status_code, r.text)
            assert r.status_code < 500, where
            if RANK[role] < RANK[declared]:
                assert r.status_code == 403, where
                assert f"needs the {declared} role" in r.json()["error_msg"], where
            else:
                assert r.status_code != 403, where
            if role in seen_by:
                seen_by[role].append(r.text)
            checked += 1
    for _, _, client in callers[:-1]:
        client.close()
    assert checked >= 4 * 40
    for role, answers in seen_by.items():
        for answer in answers:
            leaked = [s for s in fixtures.secrets if s in answer]
            assert not leaked, (role, answer)


def test_a_token_limited_to_a_lower_role_acts_with_that_role(
    fresh_server: ApicronProcess,
) -> None:
    with fresh_server.client() as root:
        admin = make_user(root, "admin", token_role="viewer")
        with admin.client(fresh_server) as limited:
            me = limited.get("/v1/me").json()
            assert (me["username"], me["role"], me["actor_kind"]) == (
                admin.username, "viewer", "token")
            r = limited.post("/v1/apps", json={"name": unique("app")})
            assert r.status_code == 403 and "needs the admin role" in r.json()["error_msg"]
            assert "has the viewer role" in r.json()["error_msg"]
            # ... and cannot mint a stronger token for itself
            r = limited.post(f"/v1/users/{admin.id}/tokens",
                             json={"name": unique("tok"), "role": "admin"})
            assert r.status_code == 400 and r.json()["field"] == "role", r.text
        # a user's lowered role caps the tokens they already hold
        operator = make_user(root, "operator")
        assert root.put(f"/v1/users/{operator.id}", json={"role": "viewer"}).status_code == 200
        with operator.client(fresh_server) as demoted:
            assert demoted.get("/v1/me").json()["role"] == "viewer"
            assert demoted.post("/v1/tasks/x/run").status_code == 403


# Service functions that need no permission, and why.
NOT_PERMISSIONED = {
    # sign-in and sessions: they establish who acts, before anyone does
    "apicron.services.authentication", "apicron.services.console_sessions",
    # background and start-up work of apicron itself
    "apicron.services.retention", "apicron.services.secret_rotation",
    "apicron.services.probes", "apicron.services.health", "apicron.services.change_watcher",
    "apicron.services.changes", "apicron.services.context",
    "apicron.services.audit.prune_audit", "apicron.services.audit.audit",
}


def service_functions() -> list[Callable[..., Any]]:
    found: list[Callable[..., Any]] = []
    for module_info in pkgutil.iter_modules(apicron.services.__path__):
        name = f"apicron.services.{module_info.name}"
        if name in NOT_PERMISSIONED:
            continue
        module = importlib.import_module(name)
        for attr, fn in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != name:
                continue
            if f"{name}.{attr}" in NOT_PERMISSIONED:
                continue
            parameters = list(inspect.signature(fn).parameters)
            if parameters[:1] == ["ctx"]:
                found.append(fn)
    return found


@pytest.fixture
def anonymous_ctx(tmp_path: Path) -> Iterator[Context]:
    ctx = open_store(load_settings({"APICRON_DATA_DIR": str(tmp_path)}))
    yield replace(ctx, actor=ANONYMOUS)
    ctx.store.close()


def test_every_service_function_refuses_a_context_that_acts_as_nobody(
    anonymous_ctx: Context,
) -> None:
    functions = service_functions()
    assert len(functions) >= 40, [f.__name__ for f in functions]
    for fn in functions:
        signature = inspect.signature(fn)
        args = ["x" for p in list(signature.parameters.values())[1:]
                if p.default is inspect.Parameter.empty and p.kind is not p.KEYWORD_ONLY]
        kwargs = {p.name: None for p in list(signature.parameters.values())[1:]
                  if p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY}
        with pytest.raises(Forbidden, match="needs the"):
            fn(anonymous_ctx, *args, **kwargs)


def test_the_permission_table_is_what_the_issue_says() -> None:
    viewer = Actor(kind="user", name="v", role="viewer")
    operator = Actor(kind="user", name="o", role="operator")
    assert {p for p in Permission if viewer.holds(p)} == {Permission.READ,
                                                           Permission.OWN_TOKENS}
    assert {p for p in Permission if operator.holds(p)} == {
        Permission.READ, Permission.OWN_TOKENS, Permission.TASKS, Permission.APIS,
        Permission.GRANTS, Permission.AUDIT, Permission.CALENDARS}
    assert all(Actor(kind="root", name="root", role="admin").holds(p) for p in Permission)


@pytest.fixture
def root_disabled(tmp_path: Path) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path / "data", {"APICRON_ADMIN_TOKEN_DISABLED": "true"})
    yield process.start()
    process.stop()


def test_a_disabled_admin_token_works_only_while_no_admin_user_can(
    root_disabled: ApicronProcess,
) -> None:
    server = root_disabled
    with server.client() as root, httpx.Client(base_url=server.url, timeout=30) as browser:
        assert root.get("/v1/me").json()["actor_kind"] == "root"  # nobody else yet
        admin = root.post("/v1/users", json={"username": "first-admin", "role": "admin",
                                             "password": PASSWORD}).json()
        refused = root.get("/v1/me")
        assert refused.status_code == 401, refused.text
        assert "APICRON_ADMIN_TOKEN_DISABLED" in refused.json()["error_msg"]
        assert console_login(server, "", ADMIN_TOKEN, browser).status_code == 401
        # the admin signs in with their password and disables themselves
        assert console_login(server, "first-admin", PASSWORD, browser).status_code == 303
        form = browser.get(f"/console/users/{admin['id']}")
        saved = browser.post(f"/console/users/{admin['id']}", data={
            "csrf_token": csrf_of(form), "display_name": "", "role": "admin",
            "disabled": "on", "username": "first-admin"})
        assert saved.status_code == 303, saved.text
        # no enabled admin left: the break-glass credential works again
        assert root.get("/v1/me").status_code == 200
