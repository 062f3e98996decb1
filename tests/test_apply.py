"""``apicron apply`` and ``apicron export`` against real servers (SQLite and PostgreSQL).

The promises: a file applied twice changes nothing the second time (nor any
``updated_at``); export writes back what was applied; a dry run changes nothing; every
document is checked before anything changes, and a problem names the file, the document
and the field; --prune deletes only after a confirmation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from apicron.client import Client
from apicron.declarative import ApplyFailed, load_world, make_plan, read_documents, run_plan
from tests.servers import ADMIN_TOKEN, ApicronProcess

# Three tasks over two apps, two APIs and a grant, written the way export writes them.
RESOURCES = """\
---
kind: App
name: billing
description: Billing jobs
---
kind: App
name: reporting
---
kind: Group
name: orders
app: billing
---
kind: Api
name: report
group: orders
method: GET
path: /report
auth_type: NONE
backend_url: http://127.0.0.1:9/report
backend_timeout_ms: 2000
---
kind: Api
name: sync_orders
group: orders
method: POST
path: /orders/{region}/sync
backend_url: http://127.0.0.1:9/sync/{region}
---
kind: Grant
app: reporting
apis:
- orders/sync_orders
---
kind: Task
name: hourly_report
app: billing
api: orders/report
effective_time: '2026-12-01T08:00:00+01:00'
timezone: Europe/Berlin
trigger_type: CALENDAR
interval_unit: HOUR
interval_value: 2
started: false
---
kind: Task
name: nightly_sync
app: billing
api: orders/sync_orders
description: Weeknight order sync
effective_time: '2026-12-01T00:00:00+01:00'
timezone: Europe/Berlin
trigger_type: CRON
cron_expression: 0 30 2 ? * MON-FRI
max_retries: 2
request:
  headers:
  - name: X-Tenant
    value: acme
  query:
  - name: region
    value: eu
  body:
    content_type: application/json
    content: |-
      {
        "dry_run": false
      }
started: true
---
kind: Task
name: weekly_cleanup
app: reporting
api: orders/sync_orders
effective_time: '2026-12-07T03:00:00-05:00'
timezone: America/New_York
trigger_type: CRON
cron_expression: 0 0 3 ? * SUN
request:
  query:
  - name: region
    value: us
misfire_policy: SKIP
overlap_policy: ALLOW
started: true
"""

PATHS = ("/v1/apps", "/v1/api-groups", "/v1/apis", "/v1/app-auths", "/v1/tasks")


def apicron(server: ApicronProcess, *args: str, cwd: Path | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APICRON_URL": server.url, "APICRON_TOKEN": ADMIN_TOKEN}
    env.pop("APICRON_ADMIN_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "apicron", *args], env=env, cwd=cwd, capture_output=True,
        text=True, timeout=120, check=False, input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    assert ADMIN_TOKEN not in result.stdout + result.stderr
    return result


def applied(server: ApicronProcess, tmp_path: Path, text: str, *options: str) -> str:
    (tmp_path / "resources.yaml").write_text(text)
    result = apicron(server, "apply", "-f", "resources.yaml", *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def line_of(text: str, name: str) -> int:
    """The line of the ``kind:`` that starts the document of ``name`` (the line before)."""
    return text.splitlines().index(f"name: {name}")


def state(server: ApicronProcess) -> dict[str, Any]:
    """Every object of the instance, as the REST API answers it."""
    with server.client() as client:
        return {path: client.get(path, params={"limit": 500}).json()["items"]
                for path in PATHS}


def by_name(server: ApicronProcess, path: str, name: str) -> dict[str, Any]:
    with server.client() as client:
        (found,) = [item for item in client.get(path, params={"name": name}).json()["items"]
                    if item["name"] == name]
        return found  # type: ignore[no-any-return]


def test_applying_twice_changes_nothing_and_export_writes_the_file_back(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    first = applied(fresh_server, tmp_path, RESOURCES)
    assert first.splitlines()[-1] == "applied: 9 created, 0 changed, 0 deleted"
    assert "+ Task nightly_sync" in first and "+ Grant reporting -> orders/sync_orders" in first
    before = state(fresh_server)
    tasks = {t["name"]: t for t in before["/v1/tasks"]}
    assert {n: t["status"] for n, t in tasks.items()} == {
        "hourly_report": "INITIALIZED", "nightly_sync": "STARTED", "weekly_cleanup": "STARTED"
    }
    assert tasks["nightly_sync"]["effective_time"] == "2026-11-30T23:00:00Z"
    assert tasks["nightly_sync"]["request"]["body"]["content"] == '{\n  "dry_run": false\n}'
    assert tasks["hourly_report"]["interval_value"] == 2
    assert all(api["published"] for api in before["/v1/apis"])

    second = applied(fresh_server, tmp_path, RESOURCES)
    assert second == "no changes\n"
    assert state(fresh_server) == before  # not one updated_at (or published_at) moved

    exported = apicron(fresh_server, "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == RESOURCES
    for app in before["/v1/apps"]:
        assert app["key"] not in exported.stdout  # no credential is ever exported

    written = apicron(fresh_server, "export", "-o", "out.yaml", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "out.yaml").read_text() == RESOURCES


def test_a_dry_run_prints_the_diff_and_changes_nothing(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    applied(fresh_server, tmp_path, RESOURCES)
    before = state(fresh_server)
    edited = RESOURCES.replace("backend_timeout_ms: 2000", "backend_timeout_ms: 3000").replace(
        "interval_value: 2\nstarted: false", "interval_value: 3\nmax_retries: 1\nstarted: false"
    )
    dry = applied(fresh_server, tmp_path, edited, "--dry-run")
    assert dry.splitlines() == [
        "~ Api orders/report",
        "    backend_timeout_ms: 2000 -> 3000",
        "    republished (the gateway serves the new draft)",
        "~ Task hourly_report",
        "    interval_value: 2 -> 3",
        "    max_retries: 0 -> 1",
        "dry run: 0 to create, 2 to change, 0 to delete; nothing was changed",
    ]
    assert state(fresh_server) == before

    done = applied(fresh_server, tmp_path, edited)
    assert done.splitlines()[:-1] == dry.splitlines()[:-1]
    assert done.splitlines()[-1] == "applied: 0 created, 2 changed, 0 deleted"
    api = by_name(fresh_server, "/v1/apis", "report")
    old_api = next(a for a in before["/v1/apis"] if a["name"] == "report")
    assert api["backend_timeout_ms"] == 3000 and api["published_at"] > old_api["published_at"]
    task = by_name(fresh_server, "/v1/tasks", "hourly_report")
    assert (task["interval_value"], task["max_retries"]) == (3, 1)
    assert applied(fresh_server, tmp_path, edited) == "no changes\n"


def test_a_started_task_is_changed_only_with_restart(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    applied(fresh_server, tmp_path, RESOURCES)
    before = state(fresh_server)
    edited = RESOURCES.replace("0 30 2 ? * MON-FRI", "0 45 2 ? * MON-FRI")
    (tmp_path / "resources.yaml").write_text(edited)
    refused = apicron(fresh_server, "apply", "-f", "resources.yaml", cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.splitlines()[0] == (
        f"apicron: error: resources.yaml: document 8 (line {line_of(edited, 'nightly_sync')}), "
        "Task 'nightly_sync': the task "
        "is STARTED and cannot be edited (cron_expression would change); stop it first, or "
        "apply with --restart to stop, update and start it again"
    )
    assert "nothing was changed" in refused.stderr
    assert state(fresh_server) == before

    done = applied(fresh_server, tmp_path, edited, "--restart")
    assert done.splitlines()[:3] == [
        "~ Task nightly_sync",
        '    cron_expression: "0 30 2 ? * MON-FRI" -> "0 45 2 ? * MON-FRI"',
        "    restarted: stopped, updated, started again",
    ]
    task = by_name(fresh_server, "/v1/tasks", "nightly_sync")
    assert (task["status"], task["cron_expression"]) == ("STARTED", "0 45 2 ? * MON-FRI")
    assert task["next_fire_time"].endswith(":45:00Z")

    stopped = applied(fresh_server, tmp_path, edited.replace(
        "overlap_policy: ALLOW\nstarted: true", "overlap_policy: ALLOW\nstarted: false"))
    assert stopped.splitlines()[:2] == ["~ Task weekly_cleanup", "    status: STARTED -> STOPPED"]
    assert by_name(fresh_server, "/v1/tasks", "weekly_cleanup")["status"] == "STOPPED"


def test_prune_deletes_what_the_files_no_longer_list_after_a_confirmation(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    applied(fresh_server, tmp_path, RESOURCES)
    grant_doc = "---\nkind: Grant\napp: reporting\napis:\n- orders/sync_orders\n"
    cleanup_doc = "---\nkind: Task\nname: weekly_cleanup" + RESOURCES.split(
        "name: weekly_cleanup", 1)[1]
    smaller = RESOURCES.replace(grant_doc, "").replace(cleanup_doc, "")
    assert smaller.count("kind: Task") == 2 and "kind: Grant" not in smaller

    # Without --prune nothing is deleted.
    assert applied(fresh_server, tmp_path, smaller) == "no changes\n"
    before = state(fresh_server)
    (tmp_path / "resources.yaml").write_text(smaller)
    asked = apicron(fresh_server, "apply", "-f", "resources.yaml", "--prune", cwd=tmp_path)
    assert asked.returncode == 1
    assert "- Task weekly_cleanup" in asked.stderr and "stopped first" in asked.stderr
    assert "run again with --yes to confirm" in asked.stderr
    assert state(fresh_server) == before

    # Grants are not pruned: the file declares none, and prune keeps to the kinds it lists.
    pruned = applied(fresh_server, tmp_path, smaller, "--prune", "--yes")
    assert pruned.splitlines() == [
        "- Task weekly_cleanup", "    stopped first", "applied: 0 created, 0 changed, 1 deleted"
    ]
    after = state(fresh_server)
    assert sorted(t["name"] for t in after["/v1/tasks"]) == ["hourly_report", "nightly_sync"]
    assert len(after["/v1/app-auths"]) == 1

    # A name the files use but would prune is refused before anything changes.
    no_reporting = smaller.replace("---\nkind: App\nname: reporting\n", "") + grant_doc
    (tmp_path / "resources.yaml").write_text(no_reporting)
    refused = apicron(fresh_server, "apply", "-f", "resources.yaml", "--prune", "--yes",
                      cwd=tmp_path)
    assert refused.returncode == 1
    assert "app: App 'reporting' is not in the files, and --prune would delete it" in (
        refused.stderr)
    assert state(fresh_server) == after

    # An app that still owns a group and tasks the file does not prune: the server would
    # refuse its deletion part-way, so the plan refuses it before anything changes.
    (tmp_path / "resources.yaml").write_text("kind: App\nname: reporting\n")
    for options in (("--dry-run",), ("--yes",)):
        kept = apicron(fresh_server, "apply", "-f", "resources.yaml", "--prune", *options,
                       cwd=tmp_path)
        assert kept.returncode == 1 and kept.stdout == ""
        assert kept.stderr.splitlines() == [
            "apicron: error: App 'billing' (not in the files): cannot be deleted: integration "
            "app 'billing' owns 1 API group(s) and 2 scheduled task(s); delete or move them "
            "first",
            "nothing was changed",
        ]
    assert state(fresh_server) == after


def test_every_problem_names_the_file_the_document_and_the_field(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text(
        "kind: App\nname: billing\ndescripton: typo\n"
        "---\nkind: Group\nname: orders\napp: nobody\n"
        "---\nkind: Task\nname: task_one\napp: billing\napi: orders/x\ntrigger_type: CRON\n"
        "cron_expression: '0 0 12 ? * 6#3'\nmax_retries: 9\n"
        "---\nkind: Widget\nname: w\n"
    )
    (tmp_path / "b.yaml").write_text(
        "kind: Task\nname: task_two\napp: billing\napi: missing\ntrigger_type: CRON\n"
        "cron_expression: '0 0 12 ? * 6#3'\n"
    )
    (tmp_path / "c.yaml").write_text("kind: App\nname: [unclosed\n")
    result = apicron(fresh_server, "apply", "-f", "a.yaml", "-f", "b.yaml", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "apicron: error: a.yaml: document 1 (line 1), App 'billing': descripton: is not a "
        "known field",
        "apicron: error: a.yaml: document 3 (line 9), Task 'task_one': max_retries: must be "
        "at most 3",
        "apicron: error: a.yaml: document 4 (line 17), Widget 'w': kind: 'Widget' is not one of "
        "App, Group, Api, Grant, Channel, Calendar, Task, User",
        "apicron: error: a.yaml: document 2 (line 5), Group 'orders': app: no App named "
        "'nobody' in the files or the instance",
        "apicron: error: b.yaml: document 1 (line 1), Task 'task_two': api: no API named 'missing' "
        "in the files or the instance",
        "nothing was changed",
    ]
    unparsable = apicron(fresh_server, "apply", "-f", "c.yaml", cwd=tmp_path)
    assert unparsable.returncode == 1
    assert unparsable.stderr.startswith(
        "apicron: error: c.yaml: line 3, column 1: not valid YAML: expected ',' or ']'")
    assert all(items == [] for items in state(fresh_server).values())

    # A trigger is checked with the server's own rules before anything is sent.
    (tmp_path / "d.yaml").write_text(RESOURCES.replace("0 0 3 ? * SUN", "0 0 3 * * SUN"))
    cron = apicron(fresh_server, "apply", "-f", "d.yaml", cwd=tmp_path)
    assert cron.returncode == 1
    assert cron.stderr.startswith(
        f"apicron: error: d.yaml: document 9 (line {line_of(RESOURCES, 'weekly_cleanup')}), "
        "Task 'weekly_cleanup': "
        "cron_expression: day-of-month '*' and day-of-week 'SUN'")
    assert all(items == [] for items in state(fresh_server).values())


def test_a_refusal_while_applying_names_the_document_and_what_was_done(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    # Without the grant, reporting may not call billing's API: the plan knows the server's
    # rule, so the dry run and the apply refuse it before anything changes.
    grant_doc = "---\nkind: Grant\napp: reporting\napis:\n- orders/sync_orders\n"
    without = RESOURCES.replace(grant_doc, "")
    (tmp_path / "resources.yaml").write_text(without)
    for options in (("--dry-run",), ()):
        result = apicron(fresh_server, "apply", "-f", "resources.yaml", *options,
                         cwd=tmp_path)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.splitlines() == [
            "apicron: error: resources.yaml: document 8 "
            f"(line {line_of(without, 'weekly_cleanup')}), Task 'weekly_cleanup': api: "
            "integration app 'reporting' holds no grant for API 'sync_orders', which belongs "
            "to another app; grant it first (POST /v1/app-auths)",
            "nothing was changed",
        ]
    assert all(items == [] for items in state(fresh_server).values())

    # A change the plan cannot foresee (someone creates 'reporting' between the plan and
    # its steps): the steps before it were made, the refused one and those after were not.
    (tmp_path / "resources.yaml").write_text(RESOURCES)
    client = Client(fresh_server.url, ADMIN_TOKEN)
    world = load_world(client)
    plan = make_plan(read_documents([str(tmp_path / "resources.yaml")]), world)
    with fresh_server.client() as rest:
        assert rest.post("/v1/apps", json={"name": "reporting"}).status_code == 201
    with client, pytest.raises(ApplyFailed) as refused:
        run_plan(plan, client, world)
    assert (refused.value.step.kind, refused.value.step.key, refused.value.done) == (
        "App", "reporting", 1)
    assert [s.key for s in refused.value.not_made] == [s.key for s in plan.steps[2:]]
    assert refused.value.error.status == 409
    assert [a["name"] for a in state(fresh_server)["/v1/apps"]] == ["billing", "reporting"]
    # Applying the whole file then finishes the job.
    done = applied(fresh_server, tmp_path, RESOURCES)
    assert done.splitlines()[-1] == "applied: 7 created, 0 changed, 0 deleted"


def test_groups_do_not_move_between_apps_and_apis_follow_published(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    applied(fresh_server, tmp_path, RESOURCES)
    moved = RESOURCES.replace("name: orders\napp: billing", "name: orders\napp: reporting")
    (tmp_path / "resources.yaml").write_text(moved)
    refused = apicron(fresh_server, "apply", "-f", "resources.yaml", cwd=tmp_path)
    assert refused.returncode == 1
    assert ("Group 'orders': app: the group belongs to app 'billing', and a group cannot move "
            "to another app") in refused.stderr

    unpublished = RESOURCES.replace("backend_timeout_ms: 2000\n",
                                    "backend_timeout_ms: 2000\npublished: false\n")
    assert applied(fresh_server, tmp_path, unpublished).splitlines()[:2] == [
        "~ Api orders/report", "    published: true -> false"
    ]
    assert by_name(fresh_server, "/v1/apis", "report")["published"] is False
    exported = apicron(fresh_server, "export").stdout
    assert exported == unpublished
    assert applied(fresh_server, tmp_path, unpublished) == "no changes\n"

    # An API edited outside apply (draft ahead of what is served) is republished.
    api = by_name(fresh_server, "/v1/apis", "sync_orders")
    with httpx.Client(base_url=fresh_server.url,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        client.put(f"/v1/apis/{api['id']}", json={"description": "edited"}).raise_for_status()
    again = applied(fresh_server, tmp_path, unpublished)
    assert again.splitlines()[:3] == [
        "~ Api orders/sync_orders",
        '    description: "edited" -> ""',
        "    republished (the gateway serves the new draft)",
    ]


def test_the_readme_example_applies_and_applies_again_to_no_change(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Declarative apply", 1)[1].split("\n## ", 1)[0]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    dry = applied(fresh_server, tmp_path, example, "--dry-run")
    assert dry.splitlines()[-1] == (
        "dry run: 4 to create, 0 to change, 0 to delete; nothing was changed"
    )
    first = applied(fresh_server, tmp_path, example)
    assert first.splitlines()[-1] == "applied: 4 created, 0 changed, 0 deleted"
    assert by_name(fresh_server, "/v1/tasks", "nightly_sync")["status"] == "STARTED"
    assert applied(fresh_server, tmp_path, example) == "no changes\n"
    exported = apicron(fresh_server, "export").stdout
    assert applied(fresh_server, tmp_path, exported) == "no changes\n"
