"""Export from one instance, apply to another: the trial that found a dry run passing and
the real apply failing half-way (a COMPLETED one-off task exported with its past run_at).

The promises: what the real apply would refuse, the dry run refuses too, with the same
message; a file with a refused document changes nothing; export never writes a state that
cannot be applied (a one-off task that has run is ``expired: true``: kept where it exists,
said and not created where it does not).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import unique
from tests.servers import ApicronProcess
from tests.test_apply import apicron, applied, by_name


def _names() -> dict[str, str]:
    return {k: unique(k) for k in ("billing", "reporting", "grp", "ping", "sync", "cal",
                                   "nightly", "once", "weekly")}


def source_file(n: dict[str, str], run_at: str) -> str:
    """Resources that name each other: a grant between two apps, a calendar a task
    follows, and a one-off task that fires at ``run_at``."""
    return f"""\
---
kind: App
name: {n['billing']}
---
kind: App
name: {n['reporting']}
---
kind: Group
name: {n['grp']}
app: {n['billing']}
---
kind: Api
name: {n['ping']}
group: {n['grp']}
method: GET
path: /{n['ping']}
auth_type: NONE
backend_url: http://127.0.0.1:9/ping
---
kind: Api
name: {n['sync']}
group: {n['grp']}
method: POST
path: /{n['sync']}
backend_url: http://127.0.0.1:9/sync
---
kind: Grant
app: {n['reporting']}
apis: [{n['grp']}/{n['sync']}]
---
kind: Calendar
name: {n['cal']}
exclude_weekdays: [SAT, SUN]
---
kind: Task
name: {n['nightly']}
app: {n['billing']}
api: {n['grp']}/{n['ping']}
timezone: UTC
trigger_type: CRON
cron_expression: 0 0 2 * * ?
calendars: [{n['cal']}]
started: true
---
kind: Task
name: {n['weekly']}
app: {n['reporting']}
api: {n['grp']}/{n['sync']}
timezone: UTC
trigger_type: CRON
cron_expression: 0 0 3 ? * MON
---
kind: Task
name: {n['once']}
app: {n['billing']}
api: {n['grp']}/{n['ping']}
timezone: UTC
effective_time: '2019-01-01T00:00:00Z'
trigger_type: AT
run_at: '{run_at}'
started: true
"""


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for_status(server: ApicronProcess, name: str, status: str) -> dict[str, Any]:
    """Polls (no timing asserted): the engine fires the one-off task, then completes it."""
    deadline = time.monotonic() + 90
    while True:
        task = by_name(server, "/v1/tasks", name)
        if task["status"] == status or time.monotonic() > deadline:
            assert task["status"] == status, task
            return task
        time.sleep(0.5)


def test_an_export_with_a_completed_one_off_task_applies_to_another_instance(
    fresh_server: ApicronProcess, server: ApicronProcess, tmp_path: Path
) -> None:
    n = _names()
    text = source_file(n, "2099-01-01T00:00:00Z")
    applied(fresh_server, tmp_path, text[:text.index("---\nkind: Task\nname: " + n["once"])])
    # The one-off task fires a few seconds from now: created and started through REST,
    # which is quicker than a CLI process on a loaded machine.
    run_at = _rfc3339(datetime.now(UTC) + timedelta(seconds=3))
    with fresh_server.client() as client:
        created = client.post("/v1/tasks", json={
            "name": n["once"], "app_id": by_name(fresh_server, "/v1/apps", n["billing"])["id"],
            "api_id": by_name(fresh_server, "/v1/apis", n["ping"])["id"], "timezone": "UTC",
            "trigger_type": "AT", "run_at": run_at})
        assert created.status_code == 201, created.text
        started = client.post(f"/v1/tasks/{created.json()['id']}/start")
        assert started.status_code == 200, started.text
    wait_for_status(fresh_server, n["once"], "COMPLETED")

    exported = apicron(fresh_server, "export")
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "export.yaml").write_text(exported.stdout)

    # Export then apply on the same instance changes nothing; --prune keeps the task.
    again = apicron(fresh_server, "apply", "-f", "export.yaml", "--prune", "--yes",
                    cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "no changes\n", again.stdout
    assert by_name(fresh_server, "/v1/tasks", n["once"])["status"] == "COMPLETED"
    # The file that made it ('started: true') applies again to no change, and says why.
    (tmp_path / "source.yaml").write_text(source_file(n, run_at).replace(
        "effective_time: '2019-01-01T00:00:00Z'\n", ""))
    original = apicron(fresh_server, "apply", "-f", "source.yaml", cwd=tmp_path)
    assert original.returncode == 0, original.stderr
    assert original.stdout == "no changes\n", original.stdout
    assert f"Task {n['once']!r}: left COMPLETED: a one-off task that has run" in (
        original.stderr)

    # On another instance, the dry run and the real run say the same, and both succeed.
    dry = apicron(server, "apply", "-f", "export.yaml", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    not_created = (f"Task {n['once']!r}: not created: a one-off task that has run "
                   f"(expired: true; run_at {run_at} has passed)")
    assert not_created in dry.stdout + dry.stderr
    real = apicron(server, "apply", "-f", "export.yaml", cwd=tmp_path)
    assert real.returncode == 0, real.stderr
    assert not_created in real.stdout + real.stderr
    assert real.stdout.splitlines()[-1] == "applied: 9 created, 0 changed, 0 deleted"
    with server.client() as client:
        names = {t["name"] for t in client.get("/v1/tasks", params={"limit": 500}).json()[
            "items"]}
    assert {n["nightly"], n["weekly"]} <= names and n["once"] not in names
    assert by_name(server, "/v1/tasks", n["nightly"])["status"] == "STARTED"


def test_what_the_real_apply_refuses_the_dry_run_refuses_and_nothing_changes(
    server: ApicronProcess, tmp_path: Path
) -> None:
    # A one-off task whose run_at has passed, with no expired flag: the server refuses it,
    # so the dry run must, and the resources before it in the file must not be created.
    n = _names()
    past = "2020-01-01T00:00:00Z"
    (tmp_path / "past.yaml").write_text(source_file(n, past))
    line = source_file(n, past).splitlines().index(f"name: {n['once']}")
    where = (f"past.yaml: document 10 (line {line}), Task {n['once']!r}: run_at: is in the "
             "past (2020-01-01T00:00:00Z")
    for options in (("--dry-run",), ()):
        result = apicron(server, "apply", "-f", "past.yaml", *options, cwd=tmp_path)
        assert result.returncode == 1, result.stdout
        assert f"apicron: error: {where}" in result.stderr, result.stderr
        assert result.stderr.splitlines()[-1] == "nothing was changed"
    with server.client() as client:
        apps = {a["name"] for a in client.get("/v1/apps", params={"limit": 500}).json()[
            "items"]}
    assert n["billing"] not in apps and n["reporting"] not in apps
