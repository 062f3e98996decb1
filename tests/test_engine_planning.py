"""Misfire planning and the retry policy: pure functions, real triggers, real dates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apicron.engine.planning import Plan, plan_task
from apicron.engine.retry import RetryPolicy, parse_retry_after
from apicron.triggers import build_trigger

T0 = datetime(2027, 1, 4, 9, 0, 0, tzinfo=UTC)
GRACE = timedelta(seconds=60)


def every_second(effective: datetime = T0 - timedelta(days=30)):  # type: ignore[no-untyped-def]
    return build_trigger(trigger_type="CRON", cron_expression="* * * * * ?", interval_unit=None,
                         interval_value=None, effective_time=effective, timezone="UTC")


def plan(next_fire: datetime, now: datetime, policy: str = "RUN_ONCE", lookahead: int = 1,
         max_missed: int = 1000) -> Plan:
    return plan_task(every_second(), next_fire, now=now, horizon=now + timedelta(
        seconds=lookahead), grace=GRACE, misfire_policy=policy, max_missed=max_missed)


class TestPlanning:
    def test_on_time_occurrences_within_the_lookahead_all_run(self) -> None:
        p = plan(T0, T0, lookahead=2)
        assert p.run == [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]
        assert p.missed == [] and p.next_fire == T0 + timedelta(seconds=3)

    def test_late_within_the_grace_period_runs_late_not_missed(self) -> None:
        now = T0 + timedelta(seconds=30)
        p = plan(T0, now, lookahead=0)
        assert len(p.run) == 31 and p.missed == []

    def test_run_once_after_downtime_runs_only_the_latest(self) -> None:
        now = T0 + timedelta(minutes=5)
        p = plan(T0, now, lookahead=0)
        assert p.run == [now]
        assert len(p.missed) == 300 and p.missed[0] == T0 and p.missed[-1] == now - timedelta(
            seconds=1)
        assert p.next_fire == now + timedelta(seconds=1)

    def test_skip_after_downtime_runs_nothing_missed(self) -> None:
        now = T0 + timedelta(minutes=5)
        p = plan(T0, now, policy="SKIP", lookahead=0)
        assert p.run == [] and len(p.missed) == 301 and p.missed[-1] == now

    def test_a_long_downtime_records_at_most_the_history_and_never_walks_it(self) -> None:
        now = T0 + timedelta(days=20)  # 1.7 million occurrences
        p = plan(T0, now, lookahead=0, max_missed=1000)
        assert p.run == [now] and len(p.missed) == 1000
        assert p.missed[-1] == now - timedelta(seconds=1)

    def test_no_burst_after_downtime_even_with_lookahead(self) -> None:
        now = T0 + timedelta(hours=1)
        p = plan(T0, now, lookahead=1)
        assert p.run == [now, now + timedelta(seconds=1)]

    def test_a_task_past_its_end_time_has_no_next_fire(self) -> None:
        schedule = build_trigger(trigger_type="CRON", cron_expression="0 * * * * ?",
                                 interval_unit=None, interval_value=None,
                                 effective_time=T0 - timedelta(days=1), timezone="UTC",
                                 end_time=T0 + timedelta(minutes=1))
        p = plan_task(schedule, T0, now=T0, horizon=T0 + timedelta(minutes=5), grace=GRACE,
                      misfire_policy="RUN_ONCE", max_missed=10)
        assert p.run == [T0, T0 + timedelta(minutes=1)] and p.next_fire is None


class TestRetryPolicy:
    @pytest.mark.parametrize(("kind", "status", "retry"), [
        ("CONNECT", None, True), ("DNS", None, True), ("TIMEOUT", None, True),
        ("HTTP", 500, True), ("HTTP", 503, True), ("HTTP", 408, True), ("HTTP", 429, True),
        ("HTTP", 400, False), ("HTTP", 404, False), ("AUTH", 403, False),
        ("CONFIG", None, False), ("TLS", None, False),
    ])
    def test_what_is_retried(self, kind: str, status: int | None, retry: bool) -> None:
        assert RetryPolicy().is_retryable(kind, status) is retry

    def test_backoff_is_full_jitter_capped(self) -> None:
        policy = RetryPolicy(random=random.Random(7))
        for attempt in range(1, 12):
            ceiling = min(60.0, 2 ** (attempt - 1))
            delays = [policy.delay(attempt) for _ in range(200)]
            assert all(0 <= d <= ceiling for d in delays)
            assert max(delays) > ceiling * 0.8

    def test_retry_after_is_honoured_up_to_the_cap(self) -> None:
        policy = RetryPolicy()
        assert policy.delay(1, 7.0) == 7.0
        assert policy.delay(1, 600.0) == 60.0

    def test_retry_after_parses_seconds_and_dates(self) -> None:
        now = datetime(2027, 1, 1, tzinfo=UTC)
        assert parse_retry_after("3", now) == 3.0
        assert parse_retry_after("Fri, 01 Jan 2027 00:00:10 GMT", now) == 10.0
        assert parse_retry_after("soon", now) is None
        assert parse_retry_after(None, now) is None


class TestChangeFeed:
    def test_task_changes_wake_the_engine_without_staling_the_gateway(
        self, tmp_path: Path
    ) -> None:
        from apicron.domain.models import ApiCreate, AppCreate, GroupCreate, TaskCreate
        from apicron.server import open_runtime
        from apicron.services import apis, apps, groups, tasks
        from apicron.settings import load_settings

        settings = load_settings({"APICRON_DATA_DIR": str(tmp_path),
                                  "APICRON_ADMIN_TOKEN": "feed-test-token-0123456789"})
        ctx = open_runtime(settings, announce_token=False).ctx
        woken: list[int] = []
        ctx.changes.subscribe(lambda: woken.append(ctx.changes.version))
        app = apps.create_app(ctx, AppCreate(name="feed"))
        group = groups.create_group(ctx, GroupCreate(name="feed", app_id=app.id))
        api = apis.create_api(ctx, ApiCreate(group_id=group.id, name="feed", method="GET",
                                             path="/feed", backend_url="http://127.0.0.1:9/"))
        before = ctx.changes.version
        apis.publish_api(ctx, api.id)
        assert ctx.changes.version == before + 1 and len(woken) == 1
        task = tasks.create_task(ctx, TaskCreate(name="feed", app_id=app.id, api_id=api.id,
                                                 trigger_type="CRON",
                                                 cron_expression="0 0 * * * ?"))
        tasks.start_task(ctx, task.id)
        tasks.stop_task(ctx, task.id)
        assert ctx.changes.version == before + 1  # the gateway's snapshot is still valid
        assert len(woken) == 3  # but the engine heard both
        ctx.store.close()
