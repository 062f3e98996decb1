"""What the server checks when a task is created, updated or started, checked while
planning, so that a dry run refuses what the real apply would and a file with a refused
document changes nothing.

Each check is the domain rule the services call (:mod:`apicron.domain.task_timing`,
:mod:`apicron.domain.task_prerequisites`, :mod:`apicron.domain.rules`), applied to what
the files and the instance say of the objects a task names (an API the same file creates
and publishes, a grant it declares). The fields are named as a file names them (``api``,
not ``api_id``). What cannot be known beforehand (a concurrent change, the server's clock
a second later) is still refused by the server; apply then says what was done and what not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apicron.client import Task
from apicron.declarative.kinds.base import Planning
from apicron.declarative.kinds.grants import grant_key
from apicron.domain import rules
from apicron.domain.errors import ApicronError, Conflict, InvalidInput
from apicron.domain.models import TaskFields
from apicron.domain.task_prerequisites import (
    api_not_published,
    check_callable_by,
    require_task_params,
)
from apicron.domain.task_timing import check_fires_again, rfc3339
from apicron.domain.validation import validate
from apicron.triggers import load_zone
from apicron.triggers.zones import wall_to_utc

if TYPE_CHECKING:
    from apicron.declarative.kinds.task_spec import TaskSpec

PENDING_ID = "-"


@dataclass(frozen=True)
class ApiFacts:
    """What a task's checks need of its API, from the files or else the instance."""

    name: str
    app: str
    published: bool
    auth_type: str
    method: str
    path: str


def api_facts(key: str, planning: Planning) -> ApiFacts | None:
    """The API ``key`` (``group/name``) as it will be once the files are applied."""
    world = planning.world
    spec: Any = planning.specs.get("Api", {}).get(key)
    if spec is not None:
        group: Any = planning.specs.get("Group", {}).get(spec.group)
        if group is not None:
            app = group.app
        else:
            current_group = world.objects.get("Group", {}).get(spec.group)
            if current_group is None:
                return None
            app = world.key_of("App", current_group.app_id)
        return ApiFacts(spec.name, app, spec.published, spec.auth_type, spec.method, spec.path)
    api = world.objects.get("Api", {}).get(key)
    if api is None:
        return None
    return ApiFacts(api.name, world.key_of("App", api.app_id), api.published, api.auth_type,
                    api.method, api.path)


def utc_in_zone(value: datetime | None, zone: str) -> datetime | None:
    """Seed and DESIGN.md: a time without an offset is a wall time in the task's zone.
    UTC, whole seconds; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = wall_to_utc(value.replace(tzinfo=None), load_zone(zone))
    return rules.whole_seconds(value.astimezone(UTC))


def normalised(merged: dict[str, Any], zone_default: str, now: datetime) -> TaskFields:
    """A task's fields as the service normalises them before its checks: the zone and the
    effective time filled, times in UTC whole seconds. Raises InvalidInput."""
    fields = validate(TaskFields, {**merged, "app_id": PENDING_ID, "api_id": PENDING_ID,
                                   "calendar_ids": []})
    zone = fields.timezone or zone_default
    interval = fields.interval_value
    if fields.trigger_type == "CALENDAR" and interval is None:
        interval = 1
    return fields.model_copy(update={
        "timezone": zone,
        "effective_time": utc_in_zone(fields.effective_time, zone) or rules.whole_seconds(now),
        "end_time": utc_in_zone(fields.end_time, zone),
        "run_at": utc_in_zone(fields.run_at, zone),
        "interval_value": interval,
    })


def typed_wall(spec: TaskSpec) -> datetime | None:
    """As the service's: a CALENDAR task's effective time typed without an offset."""
    typed = spec.effective_time
    if spec.trigger_type != "CALENDAR" or typed is None or typed.utcoffset() is not None:
        return None
    return typed.replace(tzinfo=None, microsecond=0)


def merged_fields(spec: TaskSpec, current: Task | None, desired: dict[str, Any]
                  ) -> dict[str, Any]:
    """What the task will be: the current one's fields, changed as the document says."""
    names = set(TaskFields.model_fields) - {"app_id", "api_id", "calendar_ids"}
    base = current.model_dump(mode="json", include=names) if current is not None else {}
    merged = {**base, **{k: v for k, v in desired.items() if k in names}, "name": spec.name}
    alerts = merged.get("alerts")
    if isinstance(alerts, dict) and "channels" in alerts:  # by name: checked when resolved
        merged["alerts"] = {**{k: v for k, v in alerts.items() if k != "channels"},
                            "channel_ids": []}
    return merged


def expiry(fields: TaskFields, now: datetime) -> ApicronError | None:
    """Why a task has no fire time left from ``now`` on (None: it fires again)."""
    try:
        check_fires_again(fields, now, None)
    except ApicronError as exc:
        return exc
    return None


def start_refusal(current: Task, now: datetime) -> ApicronError | None:
    """The service's refusal to start ``current`` (nothing left to fire), or None."""
    fields = validate(TaskFields, current.model_dump(mode="json", include=set(
        TaskFields.model_fields)))
    if expiry(fields, now) is None:
        return None
    if current.trigger_type == "AT":
        return Conflict(
            f"the one-off task's run_at ({rfc3339(current.run_at or now)}) has passed; "
            "change run_at to a future time first", field="run_at", code="TASK_EXPIRED")
    return Conflict(
        "the task has no fire time left (its end_time has passed or its trigger never "
        "matches again); change end_time or the trigger first", field="end_time",
        code="TASK_EXPIRED")


def check_task(spec: TaskSpec, current: Task | None, desired: dict[str, Any], *,
               saved: bool, started: bool, planning: Planning) -> list[ApicronError]:
    """Every refusal the server would give when the task is saved (created or updated:
    ``saved``) and/or started (``started``), as errors naming the file's fields."""
    errors: list[ApicronError] = []

    def attempt(check: Any) -> None:
        try:
            check()
        except ApicronError as exc:
            errors.append(exc)

    world, now = planning.world, planning.now
    if not current or started:
        attempt(lambda: require_task_params(world.instance))
    if saved:
        zone = spec.timezone or (current.timezone if current else world.instance.timezone)

        def timing() -> None:
            fields = normalised(merged_fields(spec, current, desired), zone, now)
            check_fires_again(fields, now, typed_wall(spec))

        attempt(timing)
        attempt(lambda: _check_channels(spec, planning))
    elif started and current is not None:
        refusal = start_refusal(current, now)
        if refusal is not None:
            errors.append(refusal)
    attempt(lambda: _check_api(spec, planning))
    return errors


def _check_api(spec: TaskSpec, planning: Planning) -> None:
    """The seed's API rules (the service's ``_check_api``) on what the files say."""
    facts = api_facts(spec.api, planning)
    if facts is None:
        return  # resolve reported it
    if not facts.published:
        raise api_not_published(facts.name, field="api")
    granted = spec.app == facts.app or any(
        grant_key(spec.app, spec.api) in keys for keys in (
            planning.declared.get("Grant", set()), planning.world.objects.get("Grant", {})))
    check_callable_by(app_name=spec.app, api_name=facts.name, same_app=spec.app == facts.app,
                      auth_type=facts.auth_type, granted=granted, field="api")
    rules.split_path_params("request.query", facts.path, spec.request.query)
    if spec.request.body is not None:
        rules.check_body_allowed("request.body", facts.method)


def _check_channels(spec: TaskSpec, planning: Planning) -> None:
    """Alert rules name channels by id: each must exist on the instance (the service's
    ``check_channels_exist``)."""
    if spec.alerts is None or spec.alert_channels is not None:
        return
    known = set(planning.world.keys.get("Channel", {}))
    for index, channel_id in enumerate(spec.alerts.channel_ids):
        if channel_id not in known:
            raise InvalidInput(f"no channel with id {channel_id!r} (see GET /v1/channels)",
                               field=f"alerts.channel_ids[{index}]")
