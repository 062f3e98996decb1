"""The instance and its parameters (seed prerequisites ``app_route`` and ``app_secret``)."""

from __future__ import annotations

from apicron.domain.access import Permission
from apicron.domain.models import Instance, InstanceUpdate
from apicron.domain.task_prerequisites import PARAM_REASONS as PARAM_REASONS
from apicron.domain.task_prerequisites import require_task_params as require_task_params
from apicron.services.audit import audit
from apicron.services.channels import check_channels_exist
from apicron.services.context import Context
from apicron.store.rows import InstanceChanges
from apicron.triggers import load_zone


def get_instance(ctx: Context) -> Instance:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return q.get_instance(ctx.gateway_url)


def update_instance(ctx: Context, patch: InstanceUpdate) -> Instance:
    ctx.require(Permission.INSTANCE)
    values: InstanceChanges = {}
    if patch.name is not None:
        values["name"] = patch.name
    if patch.timezone is not None:
        load_zone(patch.timezone)
        values["timezone"] = patch.timezone
    params = patch.params
    if params is not None:
        if params.app_route is not None:
            values["app_route"] = params.app_route
        if params.app_secret is not None:
            values["app_secret"] = params.app_secret
        if params.replay_guard is not None:
            values["replay_guard"] = params.replay_guard
        if params.unsigned_payload is not None:
            values["unsigned_payload"] = params.unsigned_payload
    # Issue 14: an explicit null clears the default rules.
    if "default_alerts" in patch.model_fields_set:
        rules = patch.default_alerts
        values["default_alerts"] = None if rules is None else rules.model_dump(mode="json")
    with ctx.changing() as q:
        before = q.get_instance(ctx.gateway_url)
        check_channels_exist(q, patch.default_alerts, "default_alerts")
        if values:
            q.update_instance({**values, "updated_at": ctx.now()})
        after = q.get_instance(ctx.gateway_url)
        audit(q, ctx, "update", "instance", None, name=after.name,
              before=_flat(before), after=_flat(after))
        return after


def _flat(instance: Instance) -> dict[str, object]:
    """``params.app_route`` and the others as fields of their own in the audit log."""
    rules = instance.default_alerts
    return {"name": instance.name, "timezone": instance.timezone,
            **{f"params.{k}": v for k, v in instance.params.model_dump().items()},
            "default_alerts": None if rules is None else rules.model_dump(mode="json")}
