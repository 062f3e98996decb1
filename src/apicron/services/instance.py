"""The instance and its parameters (seed prerequisites ``app_route`` and ``app_secret``)."""

from __future__ import annotations

from apicron.domain.errors import InvalidInput
from apicron.domain.models import Instance, InstanceUpdate
from apicron.services.channels import check_channels_exist
from apicron.services.context import Context
from apicron.triggers import load_zone

# Why each parameter matters to a scheduled task, for the refusal message.
PARAM_REASONS = {
    "app_route": "scheduled tasks call their API by the gateway's IP address",
    "app_secret": "scheduled tasks authenticate with their app's key and secret",
}


def get_instance(ctx: Context) -> Instance:
    with ctx.store.read() as q:
        return q.get_instance(ctx.gateway_url)


def update_instance(ctx: Context, patch: InstanceUpdate) -> Instance:
    values: dict[str, object] = {}
    if patch.name is not None:
        values["name"] = patch.name
    if patch.timezone is not None:
        load_zone(patch.timezone)
        values["timezone"] = patch.timezone
    if patch.params is not None:
        values.update(patch.params.model_dump(exclude_none=True))
    # Issue 14: an explicit null clears the default rules.
    if "default_alerts" in patch.model_fields_set:
        rules = patch.default_alerts
        values["default_alerts"] = None if rules is None else rules.model_dump(mode="json")
    with ctx.changing() as q:
        check_channels_exist(q, patch.default_alerts, "default_alerts")
        if values:
            q.update_instance({**values, "updated_at": ctx.now()})
        return q.get_instance(ctx.gateway_url)


def require_task_params(instance: Instance) -> None:
    """Seed prerequisite: both parameters on, or no task may be created or started."""
    for param, reason in PARAM_REASONS.items():
        if not getattr(instance.params, param):
            raise InvalidInput(
                f"instance parameter {param} is off, and {reason}; turn it on with "
                f'PUT /v1/instance {{"params": {{"{param}": true}}}}',
                field=f"instance.params.{param}",
                code="INSTANCE_PARAM_OFF",
            )
