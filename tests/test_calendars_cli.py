"""The CLI and apply/export for business calendars (issue 18), against a real server:
``apicron calendar create/list/show/update/delete``, ``apicron task create --calendar
--calendar-policy``, and ``kind: Calendar`` documents with tasks naming calendars by name
(export then apply: no change)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_apply import apicron


def test_calendars_and_task_calendar_options_from_the_cli(server: ApicronProcess) -> None:
    name = unique("cli-cal")
    created = apicron(server, "calendar", "create", name, "--country", "de", "--subdivision",
                      "BY", "--exclude-weekday", "SAT,SUN", "--exclude-date",
                      "2027-12-24..2027-12-31", "--include-date", "2027-12-27")
    assert created.returncode == 0, created.stderr
    calendar = json.loads(created.stdout)
    assert calendar["holidays"] == {"country": "DE", "subdivision": "BY"}
    assert calendar["exclude_weekdays"] == ["SAT", "SUN"]
    listed = apicron(server, "calendar", "list", "--name", name)
    assert listed.returncode == 0 and name in listed.stdout and "DE-BY" in listed.stdout
    shown = apicron(server, "calendar", "show", name)
    assert json.loads(shown.stdout)["id"] == calendar["id"]
    refused = apicron(server, "calendar", "create", unique("cli-cal"), "--country", "XX")
    assert refused.returncode == 1 and "holidays.country" in refused.stderr
    bad = apicron(server, "calendar", "create", unique("cli-cal"), "--exclude-date",
                  "2027-12-31..2027-12-01")
    assert bad.returncode == 1 and "exclude_dates[0]" in bad.stderr

    with server.client() as client:
        app, api = World(client).setup()
    task_name = unique("cli-task")
    made = apicron(server, "task", "create", task_name, "--app", app["name"], "--api",
                   api["name"], "--cron", "0 0 9 * * ?", "--calendar", name,
                   "--calendar-policy", "next")
    assert made.returncode == 0, made.stderr
    task = json.loads(made.stdout)
    assert task["calendar_ids"] == [calendar["id"]] and task["calendar_policy"] == "NEXT"
    in_use = apicron(server, "calendar", "delete", name, "--yes")
    assert in_use.returncode != 0 and task_name in in_use.stderr
    changed = apicron(server, "calendar", "update", name, "--no-holidays",
                      "--no-include-dates")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["holidays"] is None
    assert json.loads(changed.stdout)["exclude_weekdays"] == ["SAT", "SUN"]  # kept
    policy = apicron(server, "task", "update", task_name, "--calendar-policy", "PREVIOUS")
    assert json.loads(policy.stdout)["calendar_policy"] == "PREVIOUS"
    assert json.loads(policy.stdout)["calendar_ids"] == [calendar["id"]]
    wrong = apicron(server, "task", "update", task_name, "--calendar-policy", "LATER")
    assert wrong.returncode == 2 and "--calendar-policy" in wrong.stderr
    detached = apicron(server, "task", "update", task_name, "--no-calendars")
    assert json.loads(detached.stdout)["calendar_ids"] == []
    deleted = apicron(server, "calendar", "delete", name, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert apicron(server, "calendar", "show", name).returncode != 0


FILE = """\
---
kind: App
name: payroll
---
kind: Group
name: pay
app: payroll
---
kind: Api
name: run
group: pay
method: POST
path: /pay/run
auth_type: NONE
backend_url: http://127.0.0.1:9/run
---
kind: Calendar
name: bavaria
description: Bavarian banking days
exclude_dates:
- 2027-12-24..2027-12-31
exclude_weekdays:
- SAT
- SUN
holidays:
  country: DE
  subdivision: BY
include_dates:
- '2027-12-27'
---
kind: Calendar
name: china
holidays:
  country: CN
exclude_weekdays: [SUN, SAT]
---
kind: Task
name: payroll_run
app: payroll
api: pay/run
trigger_type: CRON
cron_expression: 0 0 9 * * ?
timezone: Europe/Berlin
calendars:
- bavaria
- china
calendar_policy: NEXT
"""


def test_calendars_apply_export_and_apply_again_change_nothing(
    fresh_server: ApicronProcess, tmp_path: Path,
) -> None:
    (tmp_path / "all.yaml").write_text(FILE)
    applied = apicron(fresh_server, "apply", "-f", "all.yaml", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "+ Calendar bavaria" in applied.stdout and "+ Task payroll_run" in applied.stdout
    again = apicron(fresh_server, "apply", "-f", "all.yaml", cwd=tmp_path)
    assert again.stdout == "no changes\n", again.stdout
    with fresh_server.client() as client:
        task = client.get("/v1/tasks", params={"name": "payroll_run"}).json()["items"][0]
        ids = {c["name"]: c["id"] for c in client.get("/v1/calendars").json()["items"]}
    assert task["calendar_ids"] == [ids["bavaria"], ids["china"]]
    assert task["calendar_policy"] == "NEXT"

    exported = apicron(fresh_server, "export")
    assert exported.returncode == 0, exported.stderr
    assert "kind: Calendar" in exported.stdout and "- bavaria" in exported.stdout
    (tmp_path / "exported.yaml").write_text(exported.stdout)
    back = apicron(fresh_server, "apply", "-f", "exported.yaml", cwd=tmp_path)
    assert back.stdout == "no changes\n", back.stdout

    changed = FILE.replace("- '2027-12-27'", "- '2027-12-28'").replace(
        "calendar_policy: NEXT", "calendar_policy: SKIP").replace("- china\n", "")
    (tmp_path / "all.yaml").write_text(changed)
    plan = apicron(fresh_server, "apply", "-f", "all.yaml", "--dry-run", cwd=tmp_path)
    assert "~ Calendar bavaria" in plan.stdout and "include_dates" in plan.stdout
    assert "~ Task payroll_run" in plan.stdout and "calendars" in plan.stdout
    assert apicron(fresh_server, "apply", "-f", "all.yaml", cwd=tmp_path).returncode == 0
    with fresh_server.client() as client:
        task = client.get(f"/v1/tasks/{task['id']}").json()
    assert task["calendar_ids"] == [ids["bavaria"]] and task["calendar_policy"] == "SKIP"


def test_a_task_naming_an_unknown_calendar_is_refused_before_anything_changes(
    fresh_server: ApicronProcess, tmp_path: Path,
) -> None:
    (tmp_path / "bad.yaml").write_text(FILE.replace("- china\n", "- atlantis\n"))
    refused = apicron(fresh_server, "apply", "-f", "bad.yaml", cwd=tmp_path)
    assert refused.returncode != 0
    assert "calendars[1]: no Calendar named 'atlantis'" in refused.stderr
    with fresh_server.client() as client:
        assert client.get("/v1/calendars").json()["total"] == 0
