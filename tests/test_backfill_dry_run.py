"""A backfill's dry run answers what it would do — every occurrence's scheduled time and
whether it would run or be left alone (already SUCCEEDED) — and no execution ids, since
nothing was stored to look up (new user's trial). REST, the client and the CLI."""

from __future__ import annotations

import httpx

from tests.conftest import World
from tests.servers import ApicronProcess
from tests.test_backfill_api import HOUR, Recorder, _hour_now, _rfc, _task, _wait_finished
from tests.test_backfill_api import backend as backend
from tests.test_cli import cli, ok


def test_a_dry_run_lists_occurrences_and_no_ids_that_do_not_exist(
    server: ApicronProcess, client: httpx.Client, world: World, backend: Recorder
) -> None:
    task = _task(world, backend)
    end = _hour_now()
    url = f"/v1/tasks/{task['id']}/backfill"
    world.ok(client.post(url, json={"from": _rfc(end - 2 * HOUR), "to": _rfc(end - HOUR)}),
             202)
    _wait_finished(client, task["id"], 1)
    span = {"from": _rfc(end - 3 * HOUR), "to": _rfc(end)}
    dry = world.ok(client.post(url, json={**span, "dry_run": True}), 202)
    assert (dry["dry_run"], dry["queued"], dry["skipped_succeeded"]) == (True, 2, 1)
    assert dry["execution_ids"] == [] and dry["sequence_id"] is None, dry
    assert dry["occurrences"] == [
        {"scheduled_at": _rfc(end - 3 * HOUR), "action": "RUN", "execution_id": None},
        {"scheduled_at": _rfc(end - 2 * HOUR), "action": "SKIP_SUCCEEDED", "execution_id": None},
        {"scheduled_at": _rfc(end - HOUR), "action": "RUN", "execution_id": None},
    ]
    assert client.get(f"/v1/tasks/{task['id']}/executions").json()["total"] == 1

    words = cli(server, "task", "backfill", task["id"], "--from", span["from"],
                "--to", span["to"], "--dry-run")
    assert words.returncode == 0, words.stderr
    lines = words.stdout.splitlines()
    assert lines[0].startswith("would queue 2 SEQUENTIAL executions"), words.stdout
    assert [line.split() for line in lines[1:4]] == [
        ["would", "run", span["from"]],
        ["left", "alone", _rfc(end - 2 * HOUR), "(already", "SUCCEEDED)"],
        ["would", "run", _rfc(end - HOUR)],
    ], words.stdout

    real = ok(server, "task", "backfill", task["id"], "--from", span["from"],
              "--to", span["to"], "--json")
    ran = [o for o in real["occurrences"] if o["action"] == "RUN"]
    assert [o["execution_id"] for o in ran] == real["execution_ids"] and len(ran) == 2
    for execution_id in real["execution_ids"]:
        assert client.get(f"/v1/executions/{execution_id}").status_code == 200
