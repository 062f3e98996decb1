"""Issue 18's task fields through ``apicron apply`` and ``apicron export``: applied, then
applied again to no change, and exported and applied back to no change."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import unique
from tests.servers import ApicronProcess
from tests.test_apply import apicron, applied, by_name


def test_one_off_jitter_and_call_policy_fields_round_trip(
    server: ApicronProcess, tmp_path: Path
) -> None:
    app, group, api = unique("app"), unique("grp"), unique("api")
    once, nightly = unique("once"), unique("nightly")
    text = f"""\
---
kind: App
name: {app}
---
kind: Group
name: {group}
app: {app}
---
kind: Api
name: {api}
group: {group}
method: POST
path: /{unique("p")}
backend_url: http://127.0.0.1:9/hook
---
kind: Task
name: {once}
app: {app}
api: {group}/{api}
effective_time: '2026-12-01T00:00:00Z'
timezone: Europe/Berlin
trigger_type: AT
run_at: '2099-06-01T09:30:00'
after_completion: DELETE
---
kind: Task
name: {nightly}
app: {app}
api: {group}/{api}
effective_time: '2026-12-01T00:00:00Z'
timezone: UTC
trigger_type: CRON
cron_expression: 0 0 2 * * ?
jitter_s: 600
jitter_mode: STABLE
timeout_ms: 9000
retry_backoff_base_ms: 250
retry_backoff_cap_ms: 5000
"""
    first = applied(server, tmp_path, text)
    assert f"+ Task {once}" in first and f"+ Task {nightly}" in first
    one_off = by_name(server, "/v1/tasks", once)
    assert one_off["run_at"] == "2099-06-01T07:30:00Z"  # a wall time in Berlin (CEST)
    assert one_off["after_completion"] == "DELETE"
    cron = by_name(server, "/v1/tasks", nightly)
    assert (cron["jitter_s"], cron["jitter_mode"], cron["timeout_ms"]) == (600, "STABLE", 9000)
    assert (cron["retry_backoff_base_ms"], cron["retry_backoff_cap_ms"]) == (250, 5000)

    assert applied(server, tmp_path, text) == "no changes\n"

    exported = apicron(server, "export")
    assert exported.returncode == 0, exported.stderr
    assert "after_completion: DELETE" in exported.stdout
    assert "jitter_mode: STABLE" in exported.stdout
    assert applied(server, tmp_path, exported.stdout) == "no changes\n"
    assert by_name(server, "/v1/tasks", once) == one_off
