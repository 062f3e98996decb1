"""Issue 18 in ``apicron apply``/``export``: tags and the new overlap policies round-trip
(export then apply is no change)."""

from __future__ import annotations

from pathlib import Path

from tests.servers import ApicronProcess
from tests.test_apply import apicron, applied, by_name

RESOURCES = """\
---
kind: App
name: billing
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
kind: Task
name: hourly_report
app: billing
api: orders/report
effective_time: '2026-12-01T08:00:00+01:00'
timezone: Europe/Berlin
trigger_type: CALENDAR
interval_unit: HOUR
interval_value: 1
overlap_policy: BUFFER_ONE
tags:
  env: prod
  team/owner: billing
started: false
"""


def test_tags_and_overlap_policies_apply_and_export_back(
    fresh_server: ApicronProcess, tmp_path: Path
) -> None:
    first = applied(fresh_server, tmp_path, RESOURCES)
    assert first.splitlines()[-1] == "applied: 4 created, 0 changed, 0 deleted"
    task = by_name(fresh_server, "/v1/tasks", "hourly_report")
    assert task["tags"] == {"env": "prod", "team/owner": "billing"}
    assert task["overlap_policy"] == "BUFFER_ONE"
    assert applied(fresh_server, tmp_path, RESOURCES) == "no changes\n"
    exported = apicron(fresh_server, "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == RESOURCES

    changed = RESOURCES.replace("  env: prod\n", "  env: staging\n").replace(
        "BUFFER_ONE", "CANCEL_PREVIOUS")
    out = applied(fresh_server, tmp_path, changed)
    assert out.splitlines()[-1] == "applied: 0 created, 1 changed, 0 deleted", out
    task = by_name(fresh_server, "/v1/tasks", "hourly_report")
    assert task["tags"] == {"env": "staging", "team/owner": "billing"}
    assert task["overlap_policy"] == "CANCEL_PREVIOUS"
