"""``apicron user|token|me|audit|profile`` as real processes against a real server: the
README's "Users, roles and the audit log" commands."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import World, unique
from tests.servers import ADMIN_TOKEN, ApicronProcess


def run(server: ApicronProcess, *args: str, token: str | None = ADMIN_TOKEN,
        stdin: str | None = None, home: Path | None = None,
        extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("APICRON_ADMIN_TOKEN", "APICRON_TOKEN", "APICRON_URL")}
    env["APICRON_DATA_DIR"] = str(server.data_dir / "nowhere")
    if home is not None:
        env["XDG_CONFIG_HOME"] = str(home)
    else:
        env["APICRON_URL"] = server.url
    if token is not None:
        env["APICRON_TOKEN"] = token
    env.update(extra or {})
    return subprocess.run([sys.executable, "-m", "apicron", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else None


def test_users_tokens_me_audit_and_profiles_from_the_command_line(
    server: ApicronProcess, tmp_path: Path,
) -> None:
    name = unique("alice")
    user = ok(run(server, "user", "create", name, "--role", "operator", "--display-name",
                  "Alice Ops", "--password-stdin", stdin="an operator passphrase\n"))
    assert (user["username"], user["role"], user["has_password"]) == (name, "operator", True)
    short = run(server, "user", "create", unique("bob"), "--role", "viewer",
                "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "password: must be at least 12" in short.stderr
    assert name in run(server, "user", "list").stdout

    created = run(server, "token", "create", "laptop-cli", "--user", name, "--expires-in", "30")
    token = ok(created)["token"]
    assert token.startswith("apc_") and "shown only now" in created.stderr
    me = ok(run(server, "me", token=token))
    assert (me["username"], me["role"], me["token_name"]) == (name, "operator", "laptop-cli")
    listed = run(server, "token", "list", token=token)
    assert "laptop-cli" in listed.stdout and token not in listed.stdout

    # an operator starts a task; the audit log says who
    with server.client(token=token) as operator_client:
        world = World(operator_client)
        with server.client() as root:
            app = World(root).app()
        group = world.group(app)
        api = world.api(group)
        task = world.task(app, api)
    ok(run(server, "task", "start", task["name"], token=token))
    audit = run(server, "audit", "list", "--action", "start", "--resource-id", task["id"],
                token=token)
    assert audit.returncode == 0, audit.stderr
    header, row = audit.stdout.splitlines()[:2]
    assert header.split() == ["AT", "ACTOR", "ACTION", "RESOURCE", "NAME", "ADDRESS", "CHANGED"]
    assert f"{name} (token laptop-cli)" in row and task["name"] in row and "status" in row

    refused = run(server, "user", "list", token=token)
    assert refused.returncode == 1
    assert refused.stderr.startswith("apicron: error: this action needs the admin role")

    # a profile keeps the URL and the token, readable by its owner only
    config = tmp_path / "config"
    saved = run(server, "--url", server.url, "profile", "set", "work", "--token-stdin",
                token=None, stdin=token + "\n", home=config)
    assert saved.returncode == 0, saved.stderr
    profiles = config / "apicron" / "profiles.toml"
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600
    who = ok(run(server, "--profile", "work", "me", token=None, home=config))
    assert who["username"] == name
    profiles.chmod(0o644)
    loose = run(server, "--profile", "work", "me", token=None, home=config)
    assert loose.returncode == 1 and "chmod 600" in loose.stderr
    profiles.chmod(0o600)

    token_id = ok(run(server, "token", "list", "--json", token=token))["items"][0]["id"]
    run(server, "token", "revoke", token_id, token=token)
    gone = run(server, "me", token=token)
    assert gone.returncode == 1 and "HTTP 401" in gone.stderr


USERS = """\
---
kind: User
username: dana
role: operator
display_name: Dana Ops
---
kind: User
username: eli
role: viewer
disabled: true
"""


def test_users_apply_and_export_without_passwords(
    fresh_server: ApicronProcess, tmp_path: Path,
) -> None:
    server = fresh_server
    (tmp_path / "users.yaml").write_text(USERS)
    applied = run(server, "apply", "-f", str(tmp_path / "users.yaml"))
    assert applied.returncode == 0, applied.stderr
    assert "+ User dana" in applied.stdout and "+ User eli" in applied.stdout
    again = run(server, "apply", "-f", str(tmp_path / "users.yaml"))
    assert again.stdout == "no changes\n", again.stdout
    exported = run(server, "export")
    assert exported.returncode == 0 and exported.stdout == USERS, exported.stdout
    listed = {u["username"]: u for u in ok(run(server, "user", "list", "--json"))["items"]}
    assert listed["dana"]["has_password"] is False and listed["eli"]["disabled"] is True

    (tmp_path / "secret.yaml").write_text(USERS + "password: hunter2hunter2\n")
    refused = run(server, "apply", "-f", str(tmp_path / "secret.yaml"))
    assert refused.returncode != 0 and "password: is never kept in a file" in refused.stderr

    # an operator's export leaves users out instead of failing
    with server.client() as root:
        r = root.post(f"/v1/users/{listed['dana']['id']}/tokens", json={"name": "export"})
        token = r.json()["token"]
    theirs = run(server, "export", token=token)
    assert theirs.returncode == 0 and "kind: User" not in theirs.stdout, theirs.stderr
