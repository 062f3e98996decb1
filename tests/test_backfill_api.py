"""Backfill, replay and request variables through the REST API and the CLI of a real
apicron process (issue 18), calling a real backend on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_cli import cli, ok
from tests.threaded_server import ThreadedServer

HOUR = timedelta(hours=1)


class Recorder(ThreadedServer):
    """Answers 200 and keeps each request's query."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[dict[str, str]] = []

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        return web.Response(text="ok")


@pytest.fixture
def backend() -> Iterator[Recorder]:
    server = Recorder().start()
    yield server
    server.stop()


def _rfc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hour_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _task(world: World, backend: Recorder, **fields: Any) -> dict[str, Any]:
    app, api = world.setup(method="GET", backend_url=f"http://127.0.0.1:{backend.port}/b")
    return world.task(app, api, cron_expression="0 0 * * * ?",
                      effective_time=_rfc(_hour_now() - 72 * HOUR), request={"query": [
                          {"name": "from", "value": "{{window_start}}"},
                          {"name": "to", "value": "{{window_end}}"}]}, **fields)


def _wait_finished(client: httpx.Client, task_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while True:
        items = client.get(f"/v1/tasks/{task_id}/executions",
                           params={"limit": 500}).json()["items"]
        done = [e for e in items if e["status"] not in ("PENDING", "RUNNING")]
        if len(done) >= count:
            return sorted(items, key=lambda e: e["scheduled_at"])
        assert time.monotonic() < deadline, items
        time.sleep(0.1)


def test_a_backfill_runs_each_occurrence_with_its_window(
    client: httpx.Client, world: World, backend: Recorder
) -> None:
    task = _task(world, backend)
    end = _hour_now()
    answer = client.post(f"/v1/tasks/{task['id']}/backfill", json={
        "from": _rfc(end - 5 * HOUR), "to": _rfc(end), "mode": "PARALLEL"})
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert (result["queued"], result["first"], result["last"]) == (
        5, _rfc(end - 5 * HOUR), _rfc(end - HOUR))
    assert result["skipped_succeeded"] == 0 and len(result["execution_ids"]) == 5
    runs = _wait_finished(client, task["id"], 5)
    assert [(e["trigger"], e["status"]) for e in runs] == [("BACKFILL", "SUCCEEDED")] * 5
    assert sorted((q["from"], q["to"]) for q in backend.queries) == [
        (_rfc(end - (k + 1) * HOUR), _rfc(end - k * HOUR)) for k in range(5, 0, -1)]
    # Again: every occurrence succeeded already, so nothing is queued.
    again = world.ok(client.post(f"/v1/tasks/{task['id']}/backfill", json={
        "from": _rfc(end - 5 * HOUR), "to": _rfc(end)}), 202)
    assert (again["queued"], again["skipped_succeeded"]) == (0, 5)

    replay = client.post(f"/v1/executions/{runs[0]['id']}/replay")
    assert replay.status_code == 202, replay.text
    assert (replay.json()["trigger"], replay.json()["replay_of"],
            replay.json()["scheduled_at"]) == ("REPLAY", runs[0]["id"], runs[0]["scheduled_at"])
    _wait_finished(client, task["id"], 6)
    assert (backend.queries[-1]["from"], backend.queries[-1]["to"]) == (
        _rfc(end - 6 * HOUR), _rfc(end - 5 * HOUR))


@pytest.mark.parametrize(("body", "field"), [
    ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"}, "to"),
    ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}, "from"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "mode": "ALL"}, "mode"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "rerun": True}, "rerun"),
])
def test_a_bad_backfill_is_a_400_naming_the_field(
    client: httpx.Client, world: World, backend: Recorder, body: dict[str, Any], field: str
) -> None:
    task = _task(world, backend)
    answer = client.post(f"/v1/tasks/{task['id']}/backfill", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field, answer.text
    items = client.get(f"/v1/tasks/{task['id']}/executions").json()
    assert items["total"] == 0


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_range_before_the_task_took_effect_is_refused_not_found_empty(
    client: httpx.Client, world: World, backend: Recorder, dry_run: bool
) -> None:
    """A new user's trial: a task created today, backfilled over last night, answered
    "would queue 0" without a word about its effective_time."""
    task = _task(world, backend)  # took effect 72 h ago
    took_effect = _hour_now() - 72 * HOUR
    answer = client.post(f"/v1/tasks/{task['id']}/backfill", json={
        "from": _rfc(took_effect - 24 * HOUR), "to": _rfc(took_effect + 2 * HOUR),
        "dry_run": dry_run})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "from", answer.text
    assert f"effective_time ({_rfc(took_effect)})" in answer.json()["error_msg"]
    assert client.get(f"/v1/tasks/{task['id']}/executions").json()["total"] == 0
    # From the effective time on, the same range's occurrences are there.
    answer = client.post(f"/v1/tasks/{task['id']}/backfill", json={
        "from": _rfc(took_effect), "to": _rfc(took_effect + 2 * HOUR), "dry_run": True})
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["occurrences"]) == 2, answer.text


def test_unknown_ids_are_404(client: httpx.Client) -> None:
    assert client.post("/v1/tasks/nope/backfill", json={
        "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}).status_code == 404
    assert client.post("/v1/executions/nope/replay").status_code == 404


@pytest.mark.parametrize(("request_fields", "field"), [
    ({"headers": [{"name": "X-Foo", "value": "{{secret}}"}]}, "request.headers.X-Foo"),
    ({"query": [{"name": "from", "value": "{{window_start"}]}, "request.query.from"),
    ({"body": {"content_type": "application/json", "content": '{"a": "{{env}}"}'}},
     "request.body.content"),
])
def test_an_unknown_placeholder_is_refused_at_save_time(
    client: httpx.Client, world: World, request_fields: dict[str, Any], field: str
) -> None:
    app, api = world.setup()
    before = world.snapshot()
    answer = client.post("/v1/tasks", json=world.task_body(app, api, request=request_fields))
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert "{{scheduled_time}}" in answer.json()["error_msg"]
    assert world.snapshot() == before


def test_the_openapi_document_has_the_operations_with_examples(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    backfill = document["paths"]["/v1/tasks/{task_id}/backfill"]["post"]
    assert backfill["operationId"] == "backfillTask"
    example = backfill["requestBody"]["content"]["application/json"]["example"]
    assert {"from", "to", "mode", "rerun_succeeded"} <= set(example)
    replay = document["paths"]["/v1/executions/{execution_id}/replay"]["post"]
    assert replay["operationId"] == "replayExecution"
    assert "replay_of" in document["components"]["schemas"]["Execution"]["properties"]


def test_the_cli_backfills_with_a_dry_run_and_replays(
    server: ApicronProcess, client: httpx.Client, world: World, backend: Recorder
) -> None:
    task = _task(world, backend, name=unique("cli"))
    end = _hour_now()
    span = ["--from", _rfc(end - 3 * HOUR), "--to", _rfc(end)]
    dry = ok(server, "task", "backfill", task["name"], *span, "--dry-run", "--json")
    assert (dry["queued"], dry["dry_run"]) == (3, True)
    assert client.get(f"/v1/tasks/{task['id']}/executions").json()["total"] == 0
    words = cli(server, "task", "backfill", task["name"], *span, "--mode", "parallel")
    assert words.returncode == 0, words.stderr
    assert "queued 3 PARALLEL executions" in words.stdout
    runs = _wait_finished(client, task["id"], 3)
    # `task runs` says how each came to run (its note) without --attempts or --json.
    table = cli(server, "task", "runs", task["name"])
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split()[-1] == "MESSAGE"
    assert sum("backfill PARALLEL of" in line for line in lines) == 3, table.stdout
    replayed = ok(server, "execution", "replay", runs[-1]["id"])
    assert (replayed["trigger"], replayed["replay_of"]) == ("REPLAY", runs[-1]["id"])
    refused = cli(server, "task", "backfill", task["name"], "--from", _rfc(end),
                  "--to", _rfc(end + 2 * HOUR))
    assert refused.returncode == 1 and "to: must not be in the future" in refused.stderr
