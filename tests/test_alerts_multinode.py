"""Alert delivery you can trust, with real processes (issue 14): a kill -9 with undelivered
events loses none and doubles none on two PostgreSQL nodes; the dead-man rule is noticed
by a live node while the other is stopped (SIGSTOP), and sent by one node only; a channel
that hangs does not hold up an every-second task.

Real ``apicron serve`` processes, a real PostgreSQL server (SQLite for the single-node
case), a real failing backend and a real webhook receiver on loopback that checks the
signature and counts what it accepted by event id.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.alert_helpers import WebhookReceiver
from tests.conftest import World, new_database, unique
from tests.pg_cluster import PostgresCluster
from tests.servers import ApicronProcess
from tests.test_gateway import Backend
from tests.test_multinode import Cluster, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.serial]

# Deliveries give up after 2 s: a killed node's claims (lease 3 × 2 + 5 s) expire in 11 s.
FAST_ALERTS = {"APICRON_ALERT_TIMEOUT": "2"}


@pytest.fixture
def cluster(postgres: PostgresCluster, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(tmp_path, postgres.create_database("alerts"))
    made.env.update(FAST_ALERTS)
    yield made
    made.stop()


@pytest.fixture
def backend() -> Iterator[Backend]:
    made = Backend().start()
    yield made
    made.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    made = WebhookReceiver().start()
    yield made
    made.state.mode = "accept"
    made.stop()


def webhook(world: World, receiver: WebhookReceiver) -> str:
    created = world.ok(world.client.post("/v1/channels", json={
        "name": unique("hook"), "kind": "webhook", "url": receiver.url}), 201)
    receiver.state.secret = created["secret"]
    return str(created["id"])


def failing_tasks(world: World, backend: Backend, count: int, **fields: Any) -> list[str]:
    app, api = world.setup(backend_url=backend.url("/status/500/x"), method="GET")
    ids = []
    for _ in range(count):
        task = world.task(app, api, cron_expression="* * * * * ?", **fields)
        world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
        ids.append(task["id"])
    return ids


def test_kill_9_with_undelivered_alerts_each_is_delivered_once_after_restart(
    cluster: Cluster, backend: Backend, receiver: WebhookReceiver
) -> None:
    nodes = [cluster.add("scheduler"), cluster.add("scheduler")]
    receiver.state.mode = "hang"
    with cluster.api.client() as client:
        world = World(client)
        channel_id = webhook(world, receiver)
        task_ids = failing_tasks(world, backend, 8, alerts={"channel_ids": [channel_id]})

        def all_events_written() -> bool:
            return len(cluster.query("SELECT id FROM alert_events")) >= len(task_ids)

        wait_for(all_events_written, 30, "a failure event per task")
        wait_for(lambda: receiver.state.hung >= 4, 30, "deliveries hanging at the receiver")
        for node in nodes:
            node.stop(signal.SIGKILL)
        undelivered = cluster.query("SELECT count(*) FROM alert_events WHERE status <> 'SENT'")
        assert undelivered[0][0] == len(task_ids)
        receiver.state.mode = "accept"
        for node in nodes:
            node.start()

        def all_sent() -> bool:
            rows = cluster.query("SELECT status, count(*) FROM alert_events GROUP BY status")
            return dict(rows) == {"SENT": len(task_ids)}

        wait_for(all_sent, 90, "every alert event delivered after the restart")
        for task_id in task_ids:
            world.ok(client.post(f"/v1/tasks/{task_id}/stop"))
    events = {row[0] for row in cluster.query("SELECT id FROM alert_events")}
    accepted = Counter(d.event_id for d in receiver.state.deliveries)
    assert set(accepted) == events  # none lost
    assert max(accepted.values()) == 1  # none twice
    assert all(d.signed and d.event == "FAILURE" for d in receiver.state.deliveries)
    print(f"{len(events)} events, {receiver.state.hung} deliveries hung before the kill, "
          "each delivered once after the restart")


def test_the_dead_man_rule_is_noticed_by_a_live_node_and_sent_once(
    cluster: Cluster, receiver: WebhookReceiver
) -> None:
    first, second = cluster.add("scheduler"), cluster.add("scheduler")
    with cluster.api.client() as client:
        world = World(client)
        channel_id = webhook(world, receiver)
        app, api = world.setup()
        rules = {"channel_ids": [channel_id], "no_success_within_s": 3}
        # Daily at noon on the third Friday: nothing runs during the test, so nothing succeeds.
        frozen_case = world.task(app, api, alerts=rules)
        assert first.process is not None
        first.process.send_signal(signal.SIGSTOP)  # an engine stopped, not dead
        try:
            world.ok(client.post(f"/v1/tasks/{frozen_case['id']}/start"))
            wait_for(lambda: len(receiver.state.deliveries) >= 1, 30,
                     "the live node to send NO_SUCCESS")
        finally:
            first.process.send_signal(signal.SIGCONT)
        both_live = world.task(app, api, alerts=rules)
        world.ok(client.post(f"/v1/tasks/{both_live['id']}/start"))
        wait_for(lambda: len(receiver.state.deliveries) >= 2, 30,
                 "NO_SUCCESS with both nodes live")
        time.sleep(12)  # both nodes look again (every 5 s): neither sends it again
        for task in (frozen_case, both_live):
            world.ok(client.post(f"/v1/tasks/{task['id']}/stop"))
    rows = cluster.query("SELECT task_id, event FROM alert_events")
    assert sorted(rows) == sorted([(frozen_case["id"], "NO_SUCCESS"),
                                   (both_live["id"], "NO_SUCCESS")])
    assert [d.event for d in receiver.state.deliveries] == ["NO_SUCCESS", "NO_SUCCESS"]
    assert second.process is not None and second.process.poll() is None


def test_a_hanging_channel_does_not_hold_up_an_every_second_task(
    request: pytest.FixtureRequest, tmp_path: Path, backend: Backend,
    receiver: WebhookReceiver,
) -> None:
    env = {**new_database(request, "sqlite"), "APICRON_ALERT_TIMEOUT": "30"}
    server = ApicronProcess(tmp_path / "data", env).start()
    receiver.state.mode = "hang"
    try:
        with server.client() as client:
            world = World(client)
            channel_id = webhook(world, receiver)
            hanging_json = world.ok(client.post("/v1/channels", json={
                "name": unique("json"), "kind": "apprise",
                "url": f"json://127.0.0.1:{receiver.port}/hang"}), 201)["id"]
            # Every failure alerts (a new task each time the rule repeats): the channels
            # are kept busy the whole time.
            (task_id,) = failing_tasks(world, backend, 1, alerts={
                "channel_ids": [channel_id, hanging_json]})
            wait_for(lambda: receiver.state.hung >= 2, 30, "both channels hanging")
            hung_at = datetime.now(UTC)
            time.sleep(8)
            world.ok(client.post(f"/v1/tasks/{task_id}/stop"))
            runs = world.ok(client.get(f"/v1/tasks/{task_id}/executions",
                                       params={"limit": 500}))["items"]
            pending = world.ok(client.get("/v1/alerts", params={"task_id": task_id}))
    finally:
        receiver.state.mode = "accept"
        server.stop()
    while_hanging = [r for r in runs if parse(r["scheduled_at"]) >= hung_at]
    assert len(while_hanging) >= 6
    assert {r["status"] for r in while_hanging} == {"FAILED"}  # run, none MISSED or SKIPPED
    # Each ran well before the channels' 30 s hang ended: a bound taken from the fault (a run
    # waiting on a delivery would be 30 s late), not a speed target.
    late = [(parse(r["started_at"]) - parse(r["scheduled_at"])).total_seconds()
            for r in while_hanging]
    assert max(late) < 15, late
    assert {a["status"] for a in pending["items"]} == {"PENDING"}


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))
