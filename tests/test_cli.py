"""The ``apicron`` resource commands, run as real processes against a real server.

Each CLI call is a process start, so the tests build what they do not exercise through the
REST API (``world``) and keep the CLI calls few.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import World, unique
from tests.servers import ADMIN_TOKEN, ApicronProcess


def cli(server: ApicronProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APICRON_URL": server.url, "APICRON_ADMIN_TOKEN": ADMIN_TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "apicron", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert ADMIN_TOKEN not in result.stdout + result.stderr
    return result


def ok(server: ApicronProcess, *args: str) -> Any:
    """Run a command that must succeed and print one JSON value on stdout."""
    result = cli(server, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(server: ApicronProcess, code: int, *args: str) -> str:
    """Run a command that must fail with ``code`` and one error line; answer that line."""
    result = cli(server, *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("apicron: error: "), result.stderr
    return lines[0]


def test_walkthrough(server: ApicronProcess, world: World, tmp_path: Path) -> None:
    assert ok(server, "instance", "show")["params"] == {
        "app_route": True, "app_secret": True, "replay_guard": False, "unsigned_payload": True,
    }

    owner_name, caller_name = unique("owner"), unique("caller")
    created = cli(server, "app", "create", owner_name, "--description", "owns the API")
    assert created.returncode == 0, created.stderr
    owner = json.loads(created.stdout)
    assert owner["name"] == owner_name and owner["secret"] and owner["key"]
    assert "secret is shown only now" in created.stderr

    group_name = unique("grp")
    group = ok(server, "group", "create", group_name, "--app", owner_name)  # by name
    assert group["app_id"] == owner["id"]

    api_name, prefix = unique("api"), unique("p")
    api = ok(
        server, "api", "create", api_name, "--group", group_name, "--method", "post",
        "--path", f"/{prefix}/orders/{{id}}", "--backend-url", "http://127.0.0.1:9/o/{id}",
        "--auth", "APP", "--timeout-ms", "2000", "--publish",
    )
    assert (api["method"], api["published"], api["backend_timeout_ms"]) == ("POST", True, 2000)
    assert api["group_id"] == group["id"] and api["app_id"] == owner["id"]

    caller = world.app(name=caller_name)
    grants = ok(server, "grant", "create", "--app", caller_name, "--api", api_name)
    assert [(g["app_id"], g["api_id"]) for g in grants["items"]] == [(caller["id"], api["id"])]

    body_file = tmp_path / "body.json"
    body_file.write_text('{"order": 42}')
    task_name = unique("task")
    task = ok(
        server, "task", "create", task_name, "--app", caller["id"], "--api", api["id"],
        "--cron", "0 0 12 ? * 6#3", "--description", "nightly",
        "--effective-time", "2026-01-01T00:00:00Z", "--end-time", "2099-01-01T00:00:00Z",
        "--timezone", "Europe/Paris", "--max-retries", "2",
        "--header", "X-Trace: abc", "--header", "Accept:application/json",
        "--query", "a=1", "--query", "a=2", "--query", "empty=", "--query", "id=42",
        "--body", f"@{body_file}", "--content-type", "application/json",
        "--misfire", "SKIP", "--overlap", "ALLOW",
    )
    assert task["status"] == "INITIALIZED" and task["next_fire_time"] is None
    assert task["app_id"] == caller["id"] and task["api_id"] == api["id"]
    assert (task["trigger_type"], task["cron_expression"]) == ("CRON", "0 0 12 ? * 6#3")
    assert (task["timezone"], task["max_retries"], task["description"]) == (
        "Europe/Paris", 2, "nightly"
    )
    assert (task["misfire_policy"], task["overlap_policy"]) == ("SKIP", "ALLOW")
    assert task["end_time"] == "2099-01-01T00:00:00Z"
    assert task["request"] == {
        "headers": [
            {"name": "X-Trace", "value": "abc"},
            {"name": "Accept", "value": "application/json"},
        ],
        "query": [
            {"name": "a", "value": "1"}, {"name": "a", "value": "2"},
            {"name": "empty", "value": ""}, {"name": "id", "value": "42"},
        ],
        "body": {"content_type": "application/json", "content": '{"order": 42}'},
    }

    started = cli(server, "task", "start", task_name)
    assert started.returncode == 0, started.stderr
    schedule, next_fire = started.stdout.splitlines()  # the two lines the README shows
    assert schedule == (
        "schedule: At 12:00, on the third Friday of the month (Europe/Paris), "
        "until 2099-01-01 01:00"
    )
    assert next_fire.startswith("next fire: 20") and "(in " in next_fire
    assert ok(server, "task", "start", task_name, "--json")["status"] == "STARTED"

    shown = cli(server, "task", "show", task_name)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)  # stdout is only the JSON object
    assert detail["id"] == task["id"] and detail["next_fire_time"]
    assert "third Friday" in shown.stderr and "next fire: " in shown.stderr

    listed = cli(server, "task", "list", "--name", task_name)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "TRIGGER", "NEXT_FIRE_TIME", "APP", "TAGS",
                              "NOTE"]
    cron_fields = ["0", "0", "12", "?", "*", "6#3"]  # the TRIGGER column
    assert row.split() == [
        task_name, "STARTED", *cron_fields, detail["next_fire_time"], caller_name, "-", "-"
    ]

    stopped = ok(server, "task", "stop", task["id"])
    assert (stopped["status"], stopped["next_fire_time"]) == ("STOPPED", None)


def test_server_refusal_names_the_field(
    server: ApicronProcess, world: World
) -> None:
    """A rule only the server can check (the end time against its clock) comes back with
    the field it names and the status."""
    app, api = world.setup()
    name = unique("task")
    line = refused(
        server, 1, "task", "create", name, "--app", app["name"], "--api", api["id"],
        "--cron", "0 0 12 ? * 6#3", "--end-time", "2020-01-01T00:00:00Z",
    )
    assert "end_time: " in line and line.endswith("(HTTP 400)")
    assert world.ok(world.client.get("/v1/tasks", params={"name": name}))["total"] == 0


def test_a_rule_the_domain_checks_is_refused_before_sending_with_the_same_words(
    server: ApicronProcess, world: World
) -> None:
    app, api = world.setup()
    name = unique("task")
    line = refused(
        server, 1, "task", "create", name, "--app", app["name"], "--api", api["id"],
        "--every", "day", "--max-retries", "4",
    )
    body = world.task_body(app, api, name=name, max_retries=4)
    answer = world.client.post("/v1/tasks", json=body)
    assert answer.status_code == 400
    # The CLI checks with the domain's own models: the server's message, word for word.
    assert line == f"apicron: error: {answer.json()['error_msg']}"
    assert world.ok(world.client.get("/v1/tasks", params={"name": name}))["total"] == 0


def test_local_usage_errors_exit_2(server: ApicronProcess) -> None:
    common = ["task", "create", unique("task"), "--app", "nope1", "--api", "nope2"]
    line = refused(server, 2, *common, "--cron", "0 * * * *", "--header", "no-colon")
    assert "--header" in line
    line = refused(server, 2, *common, "--cron", "0 * * * *", "--every", "DAY")
    assert "--cron/--every" in line


def test_names_ids_and_json_lists(server: ApicronProcess, world: World) -> None:
    app = world.app()
    group_a, group_b = world.group(app), world.group(app)
    first = world.api(group_a)
    second = world.api(group_b, name=first["name"])  # API names are unique per group only

    line = refused(server, 2, "api", "show", first["name"])
    assert first["id"] in line and second["id"] in line
    assert ok(server, "api", "show", second["id"])["group_id"] == group_b["id"]

    page = ok(server, "api", "list", "--group", group_a["name"], "--published", "--json")
    assert page["total"] == 1 and [a["id"] for a in page["items"]] == [first["id"]]

    line = refused(server, 1, "group", "show", unique("missing"))
    assert "no API group named" in line


def test_app_reset_secret(server: ApicronProcess, world: World) -> None:
    app = world.app()
    reset = cli(server, "app", "reset-secret", app["name"], "--yes")
    assert reset.returncode == 0, reset.stderr
    answer = json.loads(reset.stdout)
    assert answer["id"] == app["id"] and answer["secret"] and answer["secret"] != app["secret"]

    shown = ok(server, "app", "show", app["name"])
    assert shown["id"] == app["id"] and "secret" not in shown


def test_task_run_and_runs(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()  # its backend, 127.0.0.1:9, refuses connections
    task = world.task(app, api)
    queued = ok(server, "task", "run", task["name"])
    assert (queued["trigger"], queued["status"]) == ("MANUAL", "PENDING")
    deadline = time.monotonic() + 15
    while True:
        page = ok(server, "task", "runs", task["name"], "--json")
        (execution,) = page["items"]
        if execution["status"] == "FAILED" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert (execution["status"], execution["error_kind"]) == ("FAILED", "CONNECT")
    table = cli(server, "task", "runs", task["name"], "--attempts", "--status", "FAILED")
    assert table.returncode == 0, table.stderr
    assert "MANUAL" in table.stdout and "CONNECT" in table.stdout
    assert "attempt 1" in table.stdout


def test_cron_explain_works_without_a_server() -> None:
    def explain(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "apicron", "cron", "explain", *args],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "APICRON_URL": "http://127.0.0.1:9"},
        )

    shown = explain("0 0 12 ? * 6#3", "--timezone", "Europe/Berlin", "--next", "3")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "third Friday" in lines[0] and "Europe/Berlin" in lines[0]
    assert len(lines) == 4
    assert all("T11:00:00Z" in line and "+01:00" in line for line in lines[1:])
    gap = explain("0 30 2 * 3 ?", "--tz", "America/New_York", "--next", "31")  # the alias
    assert "moved by a DST change" in gap.stdout
    refused = explain("0 0 12 * * 6#3")
    assert refused.returncode == 1
    assert refused.stderr.startswith("apicron: error: cron_expression:")


def run_plain(*args: str, env: dict[str, str] | None = None,
              stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``apicron`` with exactly the environment given (on top of PATH and HOME)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("APICRON_")}
    return subprocess.run(
        [sys.executable, "-m", "apicron", *args], env={**base, **(env or {})},
        capture_output=True, text=True, timeout=60, check=False, input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def test_version_help_and_completion() -> None:
    from apicron import __version__

    version = run_plain("--version")
    assert (version.returncode, version.stdout) == (0, f"apicron {__version__}\n")
    shown = run_plain("--help")
    assert "--url URL" in shown.stdout and "APICRON_URL" in shown.stdout
    assert "APICRON_TOKEN" in shown.stdout and "--install-completion" in shown.stdout
    # Completion is served by the installed script (the shell knows it as `apicron`).
    script = Path(sys.executable).parent / "apicron"
    completion = subprocess.run(
        [str(script)], capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "_APICRON_COMPLETE": "complete_bash", "COMP_WORDS": "apicron ta",
             "COMP_CWORD": "1"},
    )
    assert completion.returncode == 0 and completion.stdout.split() == ["task"]


def test_url_option_wins_and_a_refused_token_names_the_url_and_its_source(
    server: ApicronProcess, tmp_path: Path
) -> None:
    env = {"APICRON_URL": "http://127.0.0.1:9", "APICRON_TOKEN": ADMIN_TOKEN}
    down = run_plain("app", "list", env=env)
    assert down.returncode == 1
    assert "cannot reach apicron at http://127.0.0.1:9" in down.stderr
    assert "--url/APICRON_URL" in down.stderr
    listed = run_plain("--url", server.url, "app", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "total" in json.loads(listed.stdout)

    # A second instance's token (here: a wrong one) against this one.
    wrong = run_plain("--url", server.url, "app", "list",
                      env={"APICRON_TOKEN": "the-other-instances-token"})
    assert wrong.returncode == 1
    line = wrong.stderr.strip()
    assert line.startswith(
        "apicron: error: the bearer token is not the admin token, nor an API token")
    assert "(HTTP 401" in line
    assert f"from {server.url}" in line and "the token came from APICRON_TOKEN" in line
    assert "the-other-instances-token" not in line


def test_the_token_comes_from_APICRON_TOKEN_else_the_servers_token_file(  # noqa: N802
    server: ApicronProcess, tmp_path: Path
) -> None:
    assert run_plain("--url", server.url, "instance", "show",
                     env={"APICRON_TOKEN": ADMIN_TOKEN}).returncode == 0
    # APICRON_TOKEN comes first, before APICRON_ADMIN_TOKEN.
    first = run_plain("--url", server.url, "instance", "show",
                      env={"APICRON_TOKEN": "wrong", "APICRON_ADMIN_TOKEN": ADMIN_TOKEN})
    assert first.returncode == 1 and "from APICRON_TOKEN" in first.stderr
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    token_file = data_dir / "admin-token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    from_file = run_plain("--url", server.url, "instance", "show",
                          env={"APICRON_DATA_DIR": str(data_dir)})
    assert from_file.returncode == 0, from_file.stderr
    token_file.unlink()
    none = run_plain("--url", server.url, "instance", "show",
                     env={"APICRON_DATA_DIR": str(data_dir)})
    assert none.returncode == 1
    assert f"no token for {server.url}: set APICRON_TOKEN" in none.stderr
    assert str(token_file) in none.stderr


def test_every_delete_asks_first_and_takes_yes(server: ApicronProcess, world: World) -> None:
    owner, caller = world.app(), world.app()
    group = world.group(owner)
    api = world.api(group, publish=False)
    grant = world.grant(caller, world.api(world.group(owner)))
    for command in (["app", "delete", caller["name"]], ["group", "delete", group["name"]],
                    ["api", "delete", api["name"]], ["grant", "delete", grant["id"]]):
        asked = cli(server, *command)  # stdin is empty: the question is answered "no"
        assert asked.returncode == 1 and "?" in asked.stderr and "Aborted" in asked.stderr
    assert world.ok(world.client.get(f"/v1/api-groups/{group['id']}"))["id"] == group["id"]
    assert world.ok(world.client.get(f"/v1/apis/{api['id']}"))["id"] == api["id"]
    grants = world.ok(world.client.get("/v1/app-auths", params={"app_id": caller["id"]}))
    assert [g["id"] for g in grants["items"]] == [grant["id"]]

    for command in (["grant", "delete", grant["id"]], ["api", "delete", api["name"]],
                    ["group", "delete", group["name"]]):
        done = cli(server, *command, "--yes")
        assert done.returncode == 0 and done.stderr.startswith("deleted "), done.stderr
    assert world.client.get(f"/v1/api-groups/{group['id']}").status_code == 404


def test_api_create_publish_is_one_request_that_does_both_or_neither(
    server: ApicronProcess, world: World
) -> None:
    app = world.app()
    group = world.group(app)
    served = world.api(group)  # published: it holds its route
    name = unique("api")
    line = refused(
        server, 1, "api", "create", name, "--group", group["name"], "--method",
        served["method"], "--path", served["path"], "--backend-url", "http://127.0.0.1:9/x",
        "--publish",
    )
    assert "(HTTP 409)" in line
    # Not left behind as an unpublished draft (a retry would then fail on the name).
    assert world.ok(world.client.get("/v1/apis", params={"name": name}))["total"] == 0
    created = ok(server, "api", "create", name, "--group", group["name"], "--method", "GET",
                 "--path", f"/{unique('p')}/x", "--backend-url", "http://127.0.0.1:9/x",
                 "--publish")
    assert created["published"] is True and created["published_at"] is not None


def test_task_list_wide_shows_ids(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()
    task = world.task(app, api, timezone="Asia/Tokyo")
    narrow = cli(server, "task", "list", "--name", task["name"])
    assert task["id"] not in narrow.stdout
    wide = cli(server, "task", "list", "--name", task["name"], "--wide")
    header, row = wide.stdout.splitlines()
    assert header.split() == ["NAME", "ID", "STATUS", "TRIGGER", "TIMEZONE", "NEXT_FIRE_TIME",
                              "APP", "API", "TAGS", "NOTE"]
    assert row.split() == [task["name"], task["id"], "INITIALIZED", "0", "0", "12", "?", "*",
                           "6#3", "Asia/Tokyo", "-", app["name"], api["name"], "-", "-"]


def test_task_runs_attempts_sit_under_their_columns(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()  # its backend, 127.0.0.1:9, refuses connections
    task = world.task(app, api, max_retries=1)
    world.ok(world.client.post(f"/v1/tasks/{task['id']}/run"), 202)
    deadline = time.monotonic() + 30
    while True:
        (execution,) = ok(server, "task", "runs", task["name"], "--json")["items"]
        if execution["status"] == "FAILED" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert execution["status"] == "FAILED" and len(execution["attempts"]) == 2
    shown = cli(server, "task", "runs", task["name"], "--attempts")
    header, run, *attempts = shown.stdout.splitlines()
    columns = header.split()
    assert columns == ["SCHEDULED_AT", "TRIGGER", "STATUS", "TRIES", "HTTP", "ERROR",
                       "DURATION", "ID", "MESSAGE"]
    starts = {name: header.index(name) for name in columns}

    def at(line: str, column: str) -> str:
        return line[starts[column]:].split("  ")[0].strip()

    assert [at(run, c) for c in ("TRIGGER", "STATUS", "TRIES", "ERROR", "ID")] == [
        "MANUAL", "FAILED", "2", "CONNECT", execution["id"]
    ]
    assert [a.strip().split("  ")[0] for a in attempts] == ["attempt 1", "attempt 2"]
    for line, attempt in zip(attempts, execution["attempts"], strict=True):
        assert at(line, "STATUS") == "FAILED" and at(line, "ERROR") == "CONNECT"
        assert at(line, "DURATION") == f"{attempt['duration_ms']} ms"
        assert at(line, "MESSAGE") == attempt["error_msg"]


def test_an_api_is_named_group_slash_name_as_in_apply_files(
    server: ApicronProcess, world: World
) -> None:
    """API names are unique only within their group: ``--api group/name`` picks one (the
    README's calendar example uses it), and a name shared by two groups is refused."""
    app, first = world.setup()
    other_group = world.group(app)
    second = world.api(other_group, name=first["name"])
    group = world.ok(world.client.get(f"/v1/api-groups/{first['group_id']}"))
    made = ok(server, "task", "create", unique("gs"), "--app", app["name"],
              "--api", f"{group['name']}/{first['name']}", "--cron", "0 0 9 * * ?")
    assert made["api_id"] == first["id"] != second["id"]
    assert "2 APIs are named" in refused(server, 2, "task", "create", unique("gs"),
                                         "--app", app["name"], "--api", first["name"],
                                         "--cron", "0 0 9 * * ?")
    line = refused(server, 1, "task", "create", unique("gs"), "--app", app["name"],
                   "--api", f"{group['name']}/nope", "--cron", "0 0 9 * * ?")
    assert line == f"apicron: error: --api: no API named 'nope' in group {group['name']!r}"
