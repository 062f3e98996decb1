"""The engine builds each task's request, and takes the gateway's decision on it, once per
task version and gateway snapshot (engine/gateway_call.py, ``Prepared``): whatever changes
between two fires is in the next call. Driven clock, real store, real backend on loopback.
"""

from __future__ import annotations

from apicron.domain.models import InstanceParamsUpdate, InstanceUpdate, TaskUpdate
from apicron.services import apis, apps, instance, tasks
from apicron.signing import occurrence_key, verify_occurrence
from tests.engine_harness import Harness, scenario


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


@scenario
async def test_a_reset_secret_signs_the_next_call_with_the_new_key(h: Harness) -> None:
    owned = h.api()
    task_id = h.task(owned)
    await h.advance(2)
    before = len(h.backend.received)
    assert before >= 2
    secret = apps.reset_secret(h.ctx, owned["app_id"]).secret
    assert secret is not None
    await h.advance(2)
    after = h.backend.received[before + 1:]  # one call may have been on its way
    assert after, "no call after the reset"
    key = occurrence_key(secret, owned["api_id"])
    for got in after:
        occurrence = verify_occurrence(key, "POST", got["headers"], got["body"])
        assert occurrence.task_id == task_id


@scenario
async def test_a_task_changed_between_fires_sends_its_new_request(h: Harness) -> None:
    task_id = h.task(h.api(), request={"headers": [{"name": "X-Tenant", "value": "acme"}]})
    await h.advance(2)
    assert {_lower(g["headers"])["x-tenant"] for g in h.backend.received} == {"acme"}
    tasks.stop_task(h.ctx, task_id)
    await h.settle()
    count = len(h.backend.received)
    tasks.update_task(h.ctx, task_id, TaskUpdate.model_validate(
        {"request": {"headers": [{"name": "X-Tenant", "value": "globex"}]}}))
    tasks.start_task(h.ctx, task_id)
    await h.advance(4)
    later = h.backend.received[count:]
    assert later, [(e.scheduled_at, e.status) for e in h.history(task_id)]
    assert {_lower(g["headers"])["x-tenant"] for g in later} == {"globex"}


@scenario
async def test_an_unpublished_api_and_app_secret_off_refuse_the_next_fire(h: Harness) -> None:
    owned = h.api()
    first = h.task(owned)
    other = h.task(h.api())
    await h.advance(2)
    assert {e.status for e in h.history(first) + h.history(other)} == {"SUCCEEDED"}
    apis.unpublish_api(h.ctx, owned["api_id"])
    await h.advance(2)
    assert h.history(first)[-1].error_kind == "AUTH"
    assert h.history(other)[-1].status == "SUCCEEDED"
    instance.update_instance(h.ctx, InstanceUpdate(params=InstanceParamsUpdate(
        app_secret=False)))
    await h.advance(2)
    assert (h.history(other)[-1].status, h.history(other)[-1].error_kind) == ("FAILED", "AUTH")
