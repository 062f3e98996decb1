"""The engine fires started tasks on time, through the gateway pipeline, with retries and
history. Driven clock, real SQLite file, real gateway code, real backends on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from apicron.domain.models import InstanceParamsUpdate, InstanceUpdate
from apicron.services import apps, executions, grants, instance, tasks
from apicron.store.tables import executions as execution_rows
from tests.engine_harness import START, Harness, scenario


@scenario
async def test_a_cron_task_fires_every_second(h: Harness) -> None:
    task_id = h.task(h.api())
    await h.advance(5)
    history = h.history(task_id)
    assert [e.scheduled_at for e in history] == [START + timedelta(seconds=s) for s in range(6)]
    assert {e.status for e in history} == {"SUCCEEDED"}
    assert {e.trigger for e in history} == {"SCHEDULE"}
    assert len(h.backend.received) == 6
    assert all(len(e.attempts) == 1 and e.attempts[0].http_status == 200 for e in history)


@scenario
async def test_a_calendar_task_fires_every_minute_from_its_effective_time(h: Harness) -> None:
    task_id = h.task(h.api(), trigger_type="CALENDAR", cron_expression=None,
                     interval_unit="MINUTE", interval_value=1,
                     effective_time=START + timedelta(seconds=30))
    await h.advance(200, step=5)
    times = [e.scheduled_at for e in h.history(task_id)]
    assert times == [START + timedelta(seconds=30 + 60 * k) for k in range(3)]


@scenario
async def test_the_request_arrives_as_configured_with_idempotency_headers(h: Harness) -> None:
    owned = h.api(method="POST", path="/orders/{region}/sync", backend_path="/b/{region}")
    body = json.dumps({"full": True})
    task_id = h.task(owned, cron_expression="0 0 * * * ?", request={
        "headers": [{"name": "X-Tenant", "value": "acme"}],
        "query": [{"name": "region", "value": "eu west"}, {"name": "tag", "value": "a"},
                  {"name": "tag", "value": "b"}],
        "body": {"content_type": "application/json", "content": body},
    })
    await h.advance(1)
    (got,) = h.backend.received
    (execution,) = h.history(task_id)
    assert got["method"] == "POST" and got["path"] == "/b/eu west"
    assert got["query"] == [("tag", "a"), ("tag", "b")]
    assert got["body"] == body.encode()
    headers = {k.lower(): v for k, v in got["headers"].items()}
    assert headers["x-tenant"] == "acme"
    assert headers["content-type"] == "application/json"
    assert headers["x-apicron-task-id"] == task_id
    assert headers["x-apicron-execution-id"] == execution.id
    assert headers["x-apicron-scheduled-time"] == "2027-03-01T08:00:00Z"
    assert headers["x-apicron-attempt"] == "1"
    assert not {"x-hw-id", "x-hw-appkey", "authorization"} & set(headers)


@pytest.mark.parametrize(("content_type", "content"), [
    ("application/xml", "<order id='1'/>"), ("application/text", "plain words"),
])
def test_xml_and_text_bodies_arrive_with_their_type(
    tmp_path: Path, database_url: str | None, content_type: str, content: str
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            h.task(h.api(method="PUT"), cron_expression="0 0 * * * ?",
                   request={"body": {"content_type": content_type, "content": content}})
            await h.advance(1)
            (got,) = h.backend.received
            assert got["body"] == content.encode()
            assert {k.lower(): v for k, v in got["headers"].items()}["content-type"] == (
                content_type)

    asyncio.run(main())


@scenario
async def test_it_retries_500_500_200_and_succeeds_on_attempt_3(h: Harness) -> None:
    h.backend.responses = [(500, {}, "boom"), (500, {}, "boom"), (200, {}, "fine")]
    task_id = h.task(h.api(), cron_expression="0 0 * * * ?", max_retries=3)
    await h.advance(10)
    (execution,) = h.history(task_id)
    assert execution.status == "SUCCEEDED"
    assert [a.http_status for a in execution.attempts] == [500, 500, 200]
    assert [a.error_kind for a in execution.attempts] == ["HTTP", "HTTP", None]
    assert execution.attempts[0].response_excerpt == "boom"
    attempts = [r["headers"]["X-Apicron-Attempt"] for r in h.backend.received]
    ids = {r["headers"]["X-Apicron-Execution-Id"] for r in h.backend.received}
    assert attempts == ["1", "2", "3"] and ids == {execution.id}


@scenario
async def test_a_400_fails_at_once(h: Harness) -> None:
    h.backend.responses = [(400, {}, "bad")]
    task_id = h.task(h.api(), cron_expression="0 0 * * * ?", max_retries=3)
    await h.advance(10)
    (execution,) = h.history(task_id)
    assert execution.status == "FAILED" and execution.error_kind == "HTTP"
    assert len(execution.attempts) == 1 and len(h.backend.received) == 1


@scenario
async def test_retry_after_is_honoured(h: Harness) -> None:
    h.backend.responses = [(503, {"Retry-After": "7"}, "later")]
    task_id = h.task(h.api(), cron_expression="0 0 * * * ?", max_retries=1)
    await h.advance(6)
    assert len(h.backend.received) == 1
    await h.advance(3)
    (execution,) = h.history(task_id)
    assert execution.status == "SUCCEEDED" and len(h.backend.received) == 2
    gap = execution.attempts[1].started_at - execution.attempts[0].finished_at
    assert timedelta(seconds=7) <= gap <= timedelta(seconds=8)


@scenario
async def test_a_slow_backend_is_a_timeout(h: Harness) -> None:
    h.backend.delay = 1.0
    task_id = h.task(h.api(timeout_ms=200), cron_expression="0 0 * * * ?")
    await h.advance(1)
    await h.settle(limit=3)
    (execution,) = h.history(task_id)
    assert execution.status == "FAILED" and execution.error_kind == "TIMEOUT"
    assert "200 ms" in (execution.error_msg or "")


@scenario
async def test_a_refused_connection_is_connect(h: Harness) -> None:
    owned = h.api()
    await h.backend.stop()
    task_id = h.task(owned, cron_expression="0 0 * * * ?")
    await h.advance(1)
    (execution,) = h.history(task_id)
    assert execution.status == "FAILED" and execution.error_kind == "CONNECT"


@scenario
async def test_a_revoked_grant_fails_the_execution_with_auth(h: Harness) -> None:
    owner = h.api()
    caller = h.api()["app_id"]
    grant_id = h.grant(caller, owner["api_id"])
    task_id = h.task({"app_id": caller, "api_id": owner["api_id"]})
    await h.advance(2)
    grants.delete_grant(h.ctx, grant_id)
    await h.advance(2)
    statuses = [(e.status, e.error_kind) for e in h.history(task_id)]
    assert statuses[:3] == [("SUCCEEDED", None)] * 3
    assert statuses[-1] == ("FAILED", "AUTH")
    assert h.engine is not None and not h.engine._stopping


@scenario
async def test_app_secret_off_fails_the_fire_with_auth(h: Harness) -> None:
    task_id = h.task(h.api(), cron_expression="0 0 * * * ?")
    instance.update_instance(h.ctx, InstanceUpdate(params=InstanceParamsUpdate(
        app_secret=False)))
    await h.advance(1)
    (execution,) = h.history(task_id)
    assert (execution.status, execution.error_kind) == ("FAILED", "AUTH")
    assert "X-HW-ID" in (execution.error_msg or "") or "sign" in (execution.error_msg or "")


def received(h: Harness, calls: int) -> bool:
    return len(h.backend.received) == calls


def decided(h: Harness, task_id: str, second: int) -> bool:
    """The occurrence at START + ``second`` has been fenced (it left PENDING)."""
    return any(e.scheduled_at == START + timedelta(seconds=second) and e.status != "PENDING"
               for e in h.history(task_id))


@scenario
async def test_overlap_skip_records_skipped_while_the_previous_runs(h: Harness) -> None:
    h.backend.delay = 1.5
    task_id = h.task(h.api(timeout_ms=5000))
    # Each second is looked at before the next comes (else the two are due together, and
    # only the latest runs: apicron.engine.coalescing).
    await h.eventually(lambda: len(h.backend.received) == 1, limit=30)
    for n in range(1, 3):
        h.clock.advance(timedelta(seconds=1))
        await h.eventually(partial(decided, h, task_id, n), limit=30)
    await h.settle(limit=5)
    history = h.history(task_id)
    skipped = [e for e in history if e.status == "SKIPPED"]
    assert skipped and all(e.error_msg == "previous execution not finished" for e in skipped)
    assert history[0].status == "SUCCEEDED"


@scenario
async def test_overlap_allow_runs_concurrently(h: Harness) -> None:
    h.backend.delay = 1.0
    task_id = h.task(h.api(timeout_ms=5000), overlap_policy="ALLOW")
    await h.eventually(lambda: len(h.backend.received) == 1, limit=30)
    for n in range(2, 4):
        h.clock.advance(timedelta(seconds=1))
        await h.eventually(partial(received, h, n), limit=30)
    await h.settle(limit=5)
    assert {e.status for e in h.history(task_id)} == {"SUCCEEDED"}


@scenario
async def test_after_downtime_missed_rows_and_at_most_one_run(h: Harness) -> None:
    task_id = h.task(h.api())
    await h.advance(2)
    await h.stop_engine()
    h.clock.advance(timedelta(minutes=5))
    calls_before = len(h.backend.received)
    await h.start_engine()
    await h.advance(0.5, step=0.5)
    history = h.history(task_id)
    missed = [e for e in history if e.status == "MISSED"]
    assert 290 <= len(missed) <= 301
    runs_after = len(h.backend.received) - calls_before
    assert runs_after == 1
    scheduled = [e.scheduled_at for e in history]
    assert len(scheduled) == len(set(scheduled))


@scenario
async def test_misfire_skip_runs_nothing_after_downtime(h: Harness) -> None:
    task_id = h.task(h.api(), misfire_policy="SKIP")
    await h.advance(1)
    await h.stop_engine()
    h.clock.advance(timedelta(minutes=3))
    calls_before = len(h.backend.received)
    await h.start_engine()
    await h.advance(0.5, step=0.5)
    assert len(h.backend.received) == calls_before
    assert len([e for e in h.history(task_id) if e.status == "MISSED"]) >= 170


@scenario
async def test_stop_prevents_further_fires(h: Harness) -> None:
    task_id = h.task(h.api())
    await h.advance(2)
    tasks.stop_task(h.ctx, task_id)
    count = len(h.backend.received)
    await h.advance(5)
    assert len(h.backend.received) == count
    assert all(e.status != "PENDING" for e in h.history(task_id))


@scenario
async def test_a_task_past_its_end_time_stops_itself(h: Harness) -> None:
    task_id = h.task(h.api(), end_time=START + timedelta(seconds=3))
    await h.advance(6)
    assert len(h.history(task_id)) == 4
    assert tasks.get_task(h.ctx, task_id).status == "STOPPED"


@scenario
async def test_a_manual_run_fires_once_in_any_state(h: Harness) -> None:
    owned = h.api()
    task_id = h.task(owned, cron_expression="0 0 0 1 1 ? 2099")
    tasks.stop_task(h.ctx, task_id)
    queued = executions.run_task(h.ctx, task_id)
    assert queued.status == "PENDING" and queued.trigger == "MANUAL"
    await h.eventually(lambda: executions.get_execution(h.ctx, queued.id).status == "SUCCEEDED")
    assert len(h.backend.received) == 1
    shown = tasks.get_task(h.ctx, task_id)
    assert shown.last_execution is not None and shown.last_execution.id == queued.id


@scenario
async def test_nothing_fires_before_the_effective_time(h: Harness) -> None:
    task_id = h.task(h.api(), effective_time=START + timedelta(seconds=10))
    await h.advance(9)
    assert h.history(task_id) == []
    await h.advance(1)
    assert [e.scheduled_at for e in h.history(task_id)] == [START + timedelta(seconds=10)]


@scenario
async def test_the_response_excerpt_is_bounded_and_redacts_the_secret(h: Harness) -> None:
    owned = h.api()
    app_secret = apps.reset_secret(h.ctx, owned["app_id"]).secret
    h.backend.responses = [(500, {}, f"leaked {app_secret} " + "x" * 10_000)]
    task_id = h.task(owned, cron_expression="0 0 * * * ?")
    await h.advance(1)
    (execution,) = h.history(task_id)
    excerpt = execution.attempts[0].response_excerpt or ""
    assert app_secret not in excerpt and "[REDACTED]" in excerpt
    assert len(excerpt.encode()) <= 4096 + len("[REDACTED]")


def rows_of(h: Harness, task_ids: list[str]) -> list[tuple[str, str | None, datetime | None]]:
    """(status, claimed_by, lease_until) of the tasks' executions, as stored."""
    c = execution_rows.c
    with h.ctx.store.read() as q:
        found = q.connection.execute(
            select(c.status, c.claimed_by, c.lease_until).where(c.task_id.in_(task_ids))
        ).all()
    return [(status, by, lease) for status, by, lease in found]


async def every_slot_taken(h: Harness, delay: float) -> list[str]:
    """Four tasks due at once on an engine with two call slots and a 3 s lease, the
    backend holding each call ``delay`` seconds: two calls in flight, two waiting."""
    await h.stop_engine()
    await h.start_engine(max_in_flight=2, lease=timedelta(seconds=3))
    h.backend.delay = delay
    owned = h.api(timeout_ms=20_000)
    task_ids = [h.task(owned, cron_expression="0 * * * * ?") for _ in range(4)]
    await h.eventually(lambda: len(h.backend.received) == 2)
    return task_ids


@scenario
async def test_a_stop_during_the_start_up_take_over_is_not_lost(h: Harness) -> None:
    """A stop that arrives while a new engine takes over the queue at start-up ends it. The
    pass after the take-over cleared the wake-up and slept until the next planned time:
    with nothing planned, forever (a SIGTERM that never ended the process; under load the
    suite's engine tests hung on it)."""
    await h.stop_engine()
    await h.start_engine(settle=False)
    engine = h.engine
    assert engine is not None and engine.running
    await asyncio.wait_for(engine.stop(grace_seconds=1), 10)
    h.engine = None


@scenario
async def test_with_every_slot_taken_the_next_wait_pending_and_leases_stay_alive(
    h: Harness,
) -> None:
    """What is RUNNING under this node's lease is on its way to the backend: executions
    waiting for a call slot stay PENDING. And while the engine waits for a slot it keeps
    renewing the leases of the calls in flight: past the lease time they must not look
    abandoned, or another node would take them over and call the backend again."""
    task_ids = await every_slot_taken(h, delay=3.0)
    assert sorted(status for status, _, _ in rows_of(h, task_ids)) == [
        "PENDING", "PENDING", "RUNNING", "RUNNING"]

    for _ in range(4):  # the engine clock moves past the 3 s lease; the calls still run
        h.clock.advance(timedelta(seconds=1))
        await asyncio.sleep(0.05)
    now = h.clock.now()

    def leases_alive() -> bool:
        running = [lease for status, _, lease in rows_of(h, task_ids) if status == "RUNNING"]
        return len(running) == 2 and all(lease is not None and lease > now for lease in running)

    await h.eventually(leases_alive, limit=1.5)
    assert len(h.backend.received) == 2

    await h.settle(limit=15)
    for task_id in task_ids:
        assert [(e.scheduled_at, e.status) for e in h.history(task_id)] == [
            (START, "SUCCEEDED")]
    assert len(h.backend.received) == 4
    assert len({r["headers"]["X-Apicron-Execution-Id"] for r in h.backend.received}) == 4


@scenario
async def test_a_stop_while_every_slot_is_taken_hands_back_what_waits(h: Harness) -> None:
    """A stop does not wait for a slot to free up (the backend may hold it for minutes):
    the calls in flight get the stop's grace, the executions waiting for a slot are handed
    back unclaimed, for the next start or another node."""
    task_ids = await every_slot_taken(h, delay=15.0)
    engine = h.engine
    assert engine is not None
    await asyncio.wait_for(engine.stop(grace_seconds=1), 6)
    h.engine = None
    states = rows_of(h, task_ids)
    assert sorted(status for status, _, _ in states) == [
        "PENDING", "PENDING", "RUNNING", "RUNNING"]
    assert [(by, lease) for status, by, lease in states if status == "PENDING"] == [
        (None, None), (None, None)]
    assert len(h.backend.received) == 2


@scenario
async def test_a_calendar_task_typed_into_a_dst_gap_fires_at_the_jump_then_at_its_wall_time(
    h: Harness,
) -> None:
    """Issue 13: CALENDAR DAY typed 2027-03-28T02:30 in Berlin (02:00 → 03:00 that night)
    fires at the jump (01:00Z), then at 02:30 local (00:30Z), not at 03:00 ever after."""
    h.clock.advance(timedelta(days=26, hours=16, minutes=59))  # 2027-03-28T00:59Z
    task_id = h.task(h.api(), trigger_type="CALENDAR", cron_expression=None,
                     interval_unit="DAY", interval_value=1, timezone="Europe/Berlin",
                     effective_time=datetime(2027, 3, 28, 2, 30))
    await h.advance(2 * 86_400, step=1800)
    fired = [e.scheduled_at.isoformat() for e in h.history(task_id)]
    assert fired == ["2027-03-28T01:00:00+00:00", "2027-03-29T00:30:00+00:00",
                     "2027-03-30T00:30:00+00:00"]
