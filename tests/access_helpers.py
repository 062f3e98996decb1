"""Users, tokens and console logins for the access tests (issue 16), through the real API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import unique
from tests.servers import ApicronProcess

PASSWORD = "a long passphrase 4 tests"


@dataclass
class Person:
    """A user with a password and an API token of their own role."""

    id: str
    username: str
    role: str
    password: str = field(repr=False)
    token: str = field(repr=False)
    token_id: str = ""

    def client(self, server: ApicronProcess) -> httpx.Client:
        return server.client(token=self.token)


def make_user(root: httpx.Client, role: str, *, token_role: str | None = None,
              password: str = PASSWORD) -> Person:
    """A new user of ``role`` (created by ``root``, any admin client) with a token."""
    username = unique(role)
    r = root.post("/v1/users", json={"username": username, "role": role, "password": password,
                                     "display_name": f"{role.capitalize()} of the tests"})
    assert r.status_code == 201, r.text
    user = r.json()
    body: dict[str, Any] = {"name": unique("tok")}
    if token_role:
        body["role"] = token_role
    r = root.post(f"/v1/users/{user['id']}/tokens", json=body)
    assert r.status_code == 201, r.text
    token = r.json()
    return Person(user["id"], username, role, password, token["token"], token["id"])


def console_login(server: ApicronProcess, username: str, password: str,
                  client: httpx.Client | None = None) -> httpx.Response:
    """Post the login form as a browser would (CSRF cookie and field); answers the POST's
    response (303 on success)."""
    client = client or httpx.Client(base_url=server.url, timeout=30)
    page = client.get("/console/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": match[1], "next": ""})


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match[1]
