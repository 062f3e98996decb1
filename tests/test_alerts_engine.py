"""Alert rules, success conditions and the outbox, end to end in one process: the engine
(driven clock, real store on SQLite and PostgreSQL, real gateway pipeline, real backend),
the real alert sender in its own thread, and a real webhook receiver on loopback that
checks apicron's signature with the standard library's HMAC (issue 14)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from apicron.alerts.sender import AlertSender, SenderSettings
from apicron.domain.alerting import ChannelCreate
from apicron.services import alerts, channels, tasks
from tests.alert_helpers import WebhookReceiver
from tests.conftest import unique
from tests.engine_harness import Harness


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    made = WebhookReceiver().start()
    yield made
    made.state.mode = "accept"
    made.stop()


class AlertWorld:
    """The harness, a webhook channel to the receiver and a running sender."""

    def __init__(self, h: Harness, receiver: WebhookReceiver):
        self.h = h
        self.receiver = receiver
        channel = channels.create_channel(h.ctx, ChannelCreate(
            name=unique("hook"), kind="webhook", url=receiver.url))
        assert channel.secret is not None
        receiver.state.secret = channel.secret
        self.channel_id = channel.id
        self.sender = AlertSender(h.ctx, SenderSettings(
            node_id=unique("sender"), poll_every_s=0.05, silence_every_s=0.0,
            backoff_base_s=1.0, timeout_s=2.0,
        )).start()

    async def history(self, task_id: str, count: int) -> list[Any]:
        """The task's executions once ``count`` of them have ended (the harness's settle
        does not wait for a result batch being written)."""
        final = {"SUCCEEDED", "FAILED", "MISSED", "SKIPPED"}
        await self.h.eventually(lambda: sum(
            e.status in final for e in self.h.history(task_id)) >= count)
        return self.h.history(task_id)

    def rules(self, **fields: Any) -> dict[str, Any]:
        return {"channel_ids": [self.channel_id], **fields}

    def events(self, task_id: str) -> list[str]:
        page = alerts.list_alerts(self.h.ctx, task_id=task_id, status=None, event=None,
                                  channel_id=None, offset=0, limit=500)
        return [e.event for e in reversed(page.items)]

    async def delivered(self, count: int, limit: float = 10.0) -> list[str]:
        """Wait (real time) until the receiver accepted ``count`` events; return them all."""
        deadline = time.monotonic() + limit
        while len(self.receiver.state.deliveries) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} deliveries expected, got "
                                     f"{self.receiver.events()}")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # and no more than that
        return self.receiver.events()


def scenario(
    fn: Callable[[AlertWorld], Awaitable[None]]
) -> Callable[[Path, str | None, WebhookReceiver], None]:
    def test(tmp_path: Path, database_url: str | None, receiver: WebhookReceiver) -> None:
        async def main() -> None:
            async with Harness(tmp_path, database_url) as h:
                world = AlertWorld(h, receiver)
                try:
                    await fn(world)
                finally:
                    await asyncio.to_thread(world.sender.stop)

        asyncio.run(main())

    test.__name__ = fn.__name__
    test.__doc__ = fn.__doc__
    return test


def answers(*statuses: int, body: str = "ok") -> list[tuple[int, dict[str, str], str]]:
    return [(status, {}, body) for status in statuses]


@scenario
async def test_three_failures_make_one_alert_and_the_next_success_one_recovery(
    w: AlertWorld,
) -> None:
    h = w.h
    h.backend.responses = answers(500, 500, 500, 500, 500, 200)
    task_id = h.task(h.api(), alerts=w.rules(on_failure_after=3))
    await h.advance(1)  # two failures: nothing yet
    assert w.events(task_id) == []
    await h.advance(1)  # the third
    assert await w.delivered(1) == ["FAILURE"]
    await h.advance(2)  # fourth and fifth failures: no storm
    assert w.events(task_id) == ["FAILURE"]
    await h.advance(1)  # the success
    assert await w.delivered(2) == ["FAILURE", "RECOVERY"]
    first, second = w.receiver.state.deliveries
    assert first.signed and second.signed
    assert first.event_id != second.event_id
    body = first.body
    assert body["task"] == {"id": task_id, "name": tasks.get_task(h.ctx, task_id).name}
    assert body["event_id"] == first.event_id == first.headers["X-Apicron-Event-Id"]
    execution = body["execution"]
    assert execution["status"] == "FAILED" and execution["attempts"][0]["http_status"] == 500
    assert "failed 3 times in a row" in body["message"]
    assert body["console_url"].endswith(f"/console/tasks/{task_id}/history")
    assert second.body["execution"]["status"] == "SUCCEEDED"
    statuses = [e.status for e in await w.history(task_id, 6)]
    assert statuses == ["FAILED"] * 5 + ["SUCCEEDED"]
    page = alerts.list_alerts(h.ctx, task_id=task_id, status="SENT", event=None,
                              channel_id=None, offset=0, limit=10)
    assert page.total == 2 and all(e.attempts == 1 for e in page.items)


@scenario
async def test_a_200_with_success_false_fails_its_jmespath_condition_and_alerts(
    w: AlertWorld,
) -> None:
    h = w.h
    h.backend.responses = answers(200, body=json.dumps({"success": False, "id": 7}))
    task_id = h.task(h.api(), success={"jmespath": "success"}, alerts=w.rules())
    await h.advance(0)
    (execution,) = await w.history(task_id, 1)
    assert execution.status == "FAILED" and execution.error_kind == "ASSERTION"
    (attempt,) = execution.attempts
    assert attempt.http_status == 200 and attempt.error_kind == "ASSERTION"
    assert attempt.error_msg == "success.jmespath: 'success' is false, not a true value"
    assert await w.delivered(1) == ["FAILURE"]
    assert "ASSERTION" in w.receiver.state.deliveries[0].body["message"]


@scenario
async def test_assertions_are_retried_only_when_the_task_says_so(w: AlertWorld) -> None:
    h = w.h
    h.backend.responses = answers(200, 200, body='{"state": "busy"}') + answers(
        200, body='{"state": "done"}')
    condition = {"jmespath": "state", "equals": "done"}
    once = h.task(h.api(), max_retries=2, success=condition)
    await h.advance(0)
    assert [len(e.attempts) for e in await w.history(once, 1)] == [1]
    tasks.stop_task(h.ctx, once)
    retried = h.task(h.api(), max_retries=2, success={**condition, "retry_on_assertion": True})
    await h.advance(10)
    first = (await w.history(retried, 1))[0]
    assert [a.error_kind for a in first.attempts] == ["ASSERTION", None]
    assert first.attempts[0].error_msg == (
        "success.jmespath: 'state' is \"busy\", expected \"done\"")
    assert first.status == "SUCCEEDED"


@scenario
async def test_status_codes_and_a_body_regex_decide_success(w: AlertWorld) -> None:
    h = w.h
    h.backend.responses = answers(304, body="") + answers(200, body="state=DOWN")
    task_id = h.task(h.api(), success={"status_codes": "200-299,304", "body_regex": "^$|=UP"})
    await h.advance(1)
    first, second = await w.history(task_id, 2)
    assert first.status == "SUCCEEDED" and first.attempts[0].http_status == 304
    assert second.status == "FAILED" and second.error_kind == "ASSERTION"
    assert second.error_msg == (
        "success.body_regex: '^$|=UP' does not match the body (body: \"state=DOWN\")")


@scenario
async def test_occurrences_missed_while_down_make_one_missed_alert(w: AlertWorld) -> None:
    h = w.h
    task_id = h.task(h.api(), misfire_policy="SKIP", alerts=w.rules(on_missed=True))
    await h.advance(1)
    await h.stop_engine()
    h.clock.advance(timedelta(seconds=300))
    await h.start_engine()
    await h.advance(1)
    missed = [e for e in h.history(task_id) if e.status == "MISSED"]
    assert len(missed) > 100
    # One alert for the downtime, not one per occurrence (and no more for an hour).
    assert await w.delivered(1) == ["MISSED"]
    assert w.events(task_id) == ["MISSED"]
    body = w.receiver.state.deliveries[0].body
    assert "occurrences of task" in body["message"] and "did not run" in body["message"]
    assert body["execution"]["status"] in ("MISSED", "SKIPPED")


@scenario
async def test_no_success_within_fires_for_a_task_whose_backend_always_fails(
    w: AlertWorld,
) -> None:
    h = w.h
    h.backend.responses = answers(*[500] * 30)
    task_id = h.task(h.api(), alerts=w.rules(on_failure_after=None, no_success_within_s=5))
    await h.advance(4)
    await asyncio.sleep(0.3)
    assert w.events(task_id) == []
    await h.advance(2)
    assert await w.delivered(1) == ["NO_SUCCESS"]
    await h.advance(5)
    await asyncio.sleep(0.3)
    assert w.events(task_id) == ["NO_SUCCESS"]  # once per silence (repeat_every_s: 1 h)
    body = w.receiver.state.deliveries[0].body
    assert body["execution"] is None and "last success: never" in body["message"]


@scenario
async def test_auto_stop_after_three_failures_stops_the_task_and_says_why(
    w: AlertWorld,
) -> None:
    h = w.h
    h.backend.responses = answers(*[500] * 10)
    task_id = h.task(h.api(), alerts=w.rules(on_failure_after=None, auto_stop_after=3))
    await h.advance(5)
    task = tasks.get_task(h.ctx, task_id)
    assert task.status == "STOPPED" and task.next_fire_time is None
    assert task.stop_reason == ("stopped by apicron after 3 consecutive failed executions "
                                "(alerts.auto_stop_after = 3)")
    assert [e.status for e in await w.history(task_id, 3)] == ["FAILED"] * 3
    assert await w.delivered(1) == ["AUTO_STOPPED"]
    assert len(h.backend.received) == 3


@scenario
async def test_a_failing_channel_is_retried_and_the_event_id_stays_the_same(
    w: AlertWorld,
) -> None:
    h = w.h
    w.receiver.state.mode = "fail"
    h.backend.responses = answers(*[500] * 20)
    task_id = h.task(h.api(), alerts=w.rules())
    await h.advance(0)
    def recorded() -> list[Any]:
        return alerts.list_alerts(h.ctx, task_id=task_id, status=None, event=None,
                                  channel_id=None, offset=0, limit=5).items

    # The receiver refused it and the sender recorded the failed attempt.
    await h.eventually(lambda: [a.attempts for a in recorded()] == [1], limit=10)
    (pending,) = recorded()
    assert pending.last_error == "the webhook answered HTTP 500"
    w.receiver.state.mode = "accept"
    h.clock.advance(timedelta(seconds=3))  # past the backoff (1-2 s after the first attempt)
    w.sender.wake()
    assert await w.delivered(1) == ["FAILURE"]
    assert w.receiver.state.deliveries[0].event_id == pending.id
    (sent,) = alerts.list_alerts(h.ctx, task_id=task_id, status="SENT", event=None,
                                 channel_id=None, offset=0, limit=5).items
    assert sent.attempts == 2 and sent.last_error is None
