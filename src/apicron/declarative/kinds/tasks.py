"""``kind: Task``: a scheduled task, by name, with its app (by name), its API (``group/name``
or an unambiguous bare name), the business calendars it follows (``calendars``, by name),
every field of ``POST /v1/tasks``, and ``started`` (true:
make it STARTED; false: make it not fire; absent: leave its state alone, new tasks are
created INITIALIZED), because starting a task makes real calls.

A STARTED task cannot be edited (the server's rule). Apply refuses to change one unless
``--restart`` is given; then it stops the task, updates it and starts it again (if the
update is refused, it starts the old version again and reports the refusal).

Fields left out of a document take the server's defaults, except ``effective_time`` and
``timezone``, whose defaults depend on the moment and the instance: left out, they are
not compared (a new task gets "now" and the instance's zone). Times without an offset are
wall times in the task's zone, as everywhere in apicron.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic_core import PydanticUndefined, to_jsonable_python

from apicron.client import Client, Task, TaskCreate, TaskUpdate
from apicron.declarative.documents import Document
from apicron.declarative.kinds.apis import resolve_api
from apicron.declarative.kinds.base import (
    Declared,
    Kind,
    Planning,
    Step,
    World,
    detail_lines,
    differences,
    split_document,
)
from apicron.declarative.kinds.task_checks import (
    check_task,
    expiry,
    merged_fields,
    normalised,
)
from apicron.declarative.kinds.task_checks import utc_in_zone as _utc
from apicron.declarative.kinds.task_spec import TaskSpec
from apicron.domain.errors import ApicronError, InvalidInput
from apicron.domain.models import TaskFields
from apicron.domain.rules import whole_seconds
from apicron.domain.task_timing import rfc3339
from apicron.domain.validation import validate
from apicron.triggers import build_trigger

PENDING_ID = "-"
# Defaults the server computes (the clock, the instance's zone): compared only when given.
SERVER_DEFAULTED = ("effective_time", "timezone")
TIMES = ("effective_time", "end_time", "run_at")
# The task's fields a document may give: every field of POST /v1/tasks but the ids, which
# a document gives as the app's and the API's names.
# Issue 18: the calendars a task follows are given by name (``calendars``), not by id.
FIELDS = tuple(f for f in TaskCreate.model_fields
               if f not in ("name", "app_id", "api_id", "calendar_ids"))


def _by_name(alerts: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Alert rules as a file writes them: ``channels`` by name instead of ``channel_ids``."""
    return {**{k: v for k, v in alerts.items() if k != "channel_ids"}, "channels": names}


def _by_id(alerts: dict[str, Any], world: World) -> dict[str, Any]:
    """Alert rules as the server takes them: ``channels`` turned into ``channel_ids``."""
    if "channels" not in alerts:
        return alerts
    rest = {k: v for k, v in alerts.items() if k != "channels"}
    return {**rest, "channel_ids": [world.id_of("Channel", c) for c in alerts["channels"]]}


def _alert_channels(fields: dict[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """``alerts.channels`` (names) taken out of a document's fields; InvalidInput naming
    the field when it is not a list of names or comes with ``channel_ids``."""
    alerts = fields.get("alerts")
    if not isinstance(alerts, dict) or "channels" not in alerts:
        return fields, None
    if "channel_ids" in alerts:
        raise InvalidInput("give the channels by name (channels) or by id (channel_ids), "
                           "not both", field="alerts.channels")
    names = alerts["channels"]
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise InvalidInput("must list channels by name", field="alerts.channels")
    # Ids are given once the channels exist (``_by_id``); the rules are checked now.
    rest = {**{k: v for k, v in alerts.items() if k != "channels"}, "channel_ids": []}
    return {**fields, "alerts": rest}, [n.strip() for n in names]


def desired_fields(spec: TaskSpec, zone: str) -> dict[str, Any]:
    """The task's fields as the server would store them, JSON-shaped (times in UTC, a
    calendar interval of 1 when not given), without what the document leaves to the
    server (``SERVER_DEFAULTED``)."""
    fields = {name: getattr(spec, name) for name in FIELDS}
    fields["calendars"] = list(spec.calendars)
    for name in TIMES:
        fields[name] = _utc(fields[name], zone)
    if fields["trigger_type"] == "CALENDAR" and fields["interval_value"] is None:
        fields["interval_value"] = 1  # DESIGN.md: interval_value defaults to 1
    for name in SERVER_DEFAULTED:
        if name not in spec.model_fields_set:
            del fields[name]
    jsonable: dict[str, Any] = to_jsonable_python(fields)
    if spec.alert_channels is not None and jsonable.get("alerts") is not None:
        jsonable["alerts"] = _by_name(jsonable["alerts"], list(spec.alert_channels))
    return jsonable


def _check_trigger(spec: TaskSpec, zone: str, current: Task | None = None) -> None:
    """The trigger checked with the triggers' own rules (the server's), so a bad cron
    expression is found before anything changes; InvalidInput names the field. An
    ``effective_time`` left out is the task's own (``current``), else now."""
    interval = spec.interval_value
    if spec.trigger_type == "CALENDAR" and interval is None:
        interval = 1
    build_trigger(
        trigger_type=spec.trigger_type, cron_expression=spec.cron_expression,
        interval_unit=spec.interval_unit, interval_value=interval,
        effective_time=(_utc(spec.effective_time, zone)
                        or (current.effective_time if current is not None else None)
                        or whole_seconds(datetime.now(UTC))),
        timezone=zone, end_time=_utc(spec.end_time, zone),
        run_at=_utc(spec.run_at, zone),
    )


class TaskKind(Kind[TaskSpec, Task]):
    """``{kind: Task, name, app, api, started, <every field of POST /v1/tasks>}``."""

    name = "Task"
    reference_kinds: ClassVar[Mapping[str, str]] = {"app": "App", "api": "Api"}

    def fetch(self, client: Client, world: World) -> dict[str, Task]:
        return {task.name: task for task in client.iter_tasks()}

    def object_id(self, record: Task) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[TaskSpec]]:
        fields, refs, flags = split_document(document, self.reference_kinds,
                                             ("started", "expired"))
        if flags.get("expired") and "started" in flags:
            raise InvalidInput("an expired task has nothing left to fire: leave started out "
                               "(its state is left as it is)", field="started")
        if "calendar_ids" in fields:
            raise InvalidInput("a file names a task's calendars by name: calendars: [name, …]",
                               field="calendar_ids")
        fields, channels = _alert_channels(fields)
        spec = validate(TaskSpec, {**fields, **refs, **flags, "app_id": PENDING_ID,
                                   "api_id": PENDING_ID, "alert_channels": channels})
        return [Declared(document, spec, spec.name)]

    def resolve(self, declared: Declared[TaskSpec], planning: Planning
                ) -> Declared[TaskSpec] | None:
        spec = declared.spec
        if not planning.exists("App", spec.app):
            planning.refuse(declared.document,
                            f"app: no App named {spec.app!r} in the files or the instance")
            return None
        key, why = resolve_api(spec.api, planning)
        if key is None:
            planning.refuse(declared.document, f"api: {why}")
            return None
        for index, calendar in enumerate(spec.calendars):
            if not planning.exists("Calendar", calendar):
                planning.refuse(declared.document, f"calendars[{index}]: no Calendar named "
                                f"{calendar!r} in the files or the instance")
                return None
        for index, channel in enumerate(spec.alert_channels or ()):
            if not planning.exists("Channel", channel):
                planning.refuse(declared.document, f"alerts.channels[{index}]: no Channel "
                                f"named {channel!r} in the files or the instance")
                return None
        zone = spec.timezone or self._zone_of(spec.name, planning)
        try:
            _check_trigger(spec, zone, planning.world.objects.get("Task", {}).get(spec.name))
        except ApicronError as exc:
            planning.refuse(declared.document, exc.message)
            return None
        return Declared(declared.document, spec.model_copy(update={"api": key}), declared.key)

    @staticmethod
    def _zone_of(name: str, planning: Planning) -> str:
        current: Task | None = planning.world.objects.get("Task", {}).get(name)
        return current.timezone if current is not None else planning.world.instance.timezone

    def changes(self, declared: Declared[TaskSpec], current: Task | None, planning: Planning
                ) -> list[Step]:
        spec, key, where = declared.spec, declared.key, declared.document.where()
        desired = desired_fields(spec, spec.timezone or self._zone_of(spec.name, planning))
        if current is None:
            if spec.expired:
                self._not_created(declared, desired, planning)
                return []
            if not self._checked(declared, None, desired, saved=True,
                                 started=bool(spec.started), planning=planning):
                return []
            return [self._create(spec, key, where, desired)]
        world = planning.world
        now = {
            **current.model_dump(mode="json", include=set(desired)),
            "app": world.key_of("App", current.app_id),
            "api": world.key_of("Api", current.api_id),
            "calendars": [world.key_of("Calendar", i) for i in current.calendar_ids],
        }
        if spec.alert_channels is not None and current.alerts is not None:
            now["alerts"] = _by_name(now["alerts"], [world.key_of("Channel", i)
                                                     for i in current.alerts.channel_ids])
        changed = differences(now, {**desired, "app": spec.app, "api": spec.api})
        details = detail_lines(now, changed)
        running = current.status == "STARTED"
        keep_running = spec.started is not False  # true, or absent: the state stays
        restart = bool(changed) and running and keep_running
        if restart and not planning.restart:
            planning.refuse(
                declared.document,
                f"the task is STARTED and cannot be edited ({', '.join(changed)} would "
                "change); stop it first, or apply with --restart to stop, update and start "
                "it again",
            )
            return []
        stop = running and (bool(changed) or not keep_running)
        start = restart or (spec.started is True and not running)
        if start and not changed and current.status == "COMPLETED":
            # A one-off task that has run did what 'started: true' asked: the file that
            # created it applies again to no change, and says why it is not started.
            planning.note(declared.document, "left COMPLETED: a one-off task that has run is "
                          "not started again; change run_at to a future time to run it again")
            start = False
        if restart:
            details.append("restarted: stopped, updated, started again")
        elif start:
            details.append(f"status: {current.status} -> STARTED")
        elif stop:
            details.append("status: STARTED -> STOPPED")
        if not (changed or start or stop):
            return []
        if (changed or start) and not self._checked(
                declared, current, changed, saved=bool(changed), started=start,
                planning=planning):
            return []

        def update(client: Client, world: World) -> None:
            if stop:
                client.stop_task(current.id)
            if changed:
                try:
                    client.update_task(current.id, self._patch(changed, world))
                except ApicronError:
                    if restart:
                        client.start_task(current.id)  # the old version runs on, as it was
                    raise
            if start:
                client.start_task(current.id)

        return [Step("update", self.name, key, where, update, details)]

    @staticmethod
    def _checked(declared: Declared[TaskSpec], current: Task | None, desired: dict[str, Any],
                 *, saved: bool, started: bool, planning: Planning) -> bool:
        """Whether the server would take the step: each refusal it would give is reported
        now, with its message (see :mod:`~apicron.declarative.kinds.task_checks`)."""
        errors = check_task(declared.spec, current, desired, saved=saved, started=started,
                            planning=planning)
        for error in errors:
            planning.refuse(declared.document, error.message)
        return not errors

    def _not_created(self, declared: Declared[TaskSpec], desired: dict[str, Any],
                     planning: Planning) -> None:
        """``expired: true`` for a task the instance does not have: it is not created (it
        could never fire), and apply says so. A task that would fire again is refused:
        the flag is stale, and leaving it out creates the task."""
        spec = declared.spec
        zone = spec.timezone or planning.world.instance.timezone
        try:
            why = expiry(normalised(merged_fields(spec, None, desired), zone, planning.now),
                         planning.now)
        except ApicronError as exc:
            planning.refuse(declared.document, exc.message)
            return
        if why is None:
            planning.refuse(declared.document, "expired: is true, but the task fires again; "
                            "leave expired out to create it")
        elif spec.trigger_type == "AT" and spec.run_at is not None:
            run_at = _utc(spec.run_at, zone)
            assert run_at is not None
            planning.note(declared.document, "not created: a one-off task that has run "
                          f"(expired: true; run_at {rfc3339(run_at)} has passed)")
        else:
            planning.note(declared.document, "not created: the task has no fire time left "
                          f"(expired: true; {why.message})")

    def _create(self, spec: TaskSpec, key: str, where: str, desired: dict[str, Any]) -> Step:
        def create(client: Client, world: World) -> None:
            fields = {**desired, "name": spec.name, "app_id": world.id_of("App", spec.app),
                      "api_id": world.id_of("Api", spec.api)}
            fields["calendar_ids"] = [world.id_of("Calendar", c)
                                      for c in fields.pop("calendars")]
            if fields.get("alerts") is not None:
                fields["alerts"] = _by_id(fields["alerts"], world)
            created = client.create_task(validate(TaskCreate, fields))
            world.register(self.name, key, created.id)
            if spec.started:
                client.start_task(created.id)

        return Step("create", self.name, key, where, create,
                    ["started: true"] if spec.started else [])

    @staticmethod
    def _patch(changed: dict[str, Any], world: World) -> TaskUpdate:
        fields = {k: v for k, v in changed.items() if k not in ("app", "api", "calendars")}
        if "calendars" in changed:
            fields["calendar_ids"] = [world.id_of("Calendar", c) for c in changed["calendars"]]
        if changed.get("alerts") is not None:
            fields["alerts"] = _by_id(changed["alerts"], world)
        if "app" in changed:
            fields["app_id"] = world.id_of("App", changed["app"])
        if "api" in changed:
            fields["api_id"] = world.id_of("Api", changed["api"])
        return validate(TaskUpdate, fields)

    def references(self, spec: TaskSpec) -> list[tuple[str, str, str]]:
        return [*super().references(spec),
                *((f"calendars[{i}]", "Calendar", c) for i, c in enumerate(spec.calendars)),
                *((f"alerts.channels[{i}]", "Channel", c)
                  for i, c in enumerate(spec.alert_channels or ()))]

    def removal(self, key: str, current: Task, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            if current.status == "STARTED":
                client.stop_task(current.id)
            client.delete_task(current.id)

        details = ["stopped first"] if current.status == "STARTED" else []
        return [Step("delete", self.name, key, f"Task {key!r} (not in the files)", delete,
                     details)]

    def export(self, records: Iterable[Task], world: World) -> list[dict[str, Any]]:
        return [self._document(task, world) for task in sorted(records, key=lambda t: t.name)]

    def _document(self, task: Task, world: World) -> dict[str, Any]:
        document: dict[str, Any] = {
            "kind": self.name,
            "name": task.name,
            "app": world.key_of("App", task.app_id),
            "api": world.key_of("Api", task.api_id),
        }
        values = task.model_dump(mode="json", include=set(FIELDS))
        zone = ZoneInfo(task.timezone)
        for name in FIELDS:
            value = values[name]
            if name in TIMES and value is not None:
                # In the task's zone, with its offset: the same instant, easier to read.
                value = getattr(task, name).astimezone(zone).isoformat()
            if name == "request":
                value = {k: v for k, v in value.items() if v not in ([], None)}
                if value:
                    document[name] = value
                continue
            default = TaskCreate.model_fields[name].default
            if name in SERVER_DEFAULTED or default is PydanticUndefined or value != default:
                document[name] = value
        if task.calendar_ids:
            document["calendars"] = [world.key_of("Calendar", i) for i in task.calendar_ids]
        if task.alerts is not None:
            # Channels by name, like every other reference: ids differ between instances.
            document["alerts"] = _by_name(document["alerts"], [
                world.key_of("Channel", i) for i in task.alerts.channel_ids])
        if _has_expired(task):
            # Issue 19 trial: a task that can never fire again (a one-off that has run, an
            # end_time passed) cannot be created anywhere; applied back, it is kept where it
            # exists and said, not created, where it does not.
            document["expired"] = True
        else:
            document["started"] = task.status == "STARTED"
        return document


def _has_expired(task: Task) -> bool:
    """Whether ``task`` has nothing left to fire: COMPLETED, or its times have passed."""
    if task.status == "COMPLETED":
        return True
    now = datetime.now(UTC)
    try:
        fields = validate(TaskFields, task.model_dump(mode="json", include=set(
            TaskFields.model_fields)))
    except ApicronError:
        return False
    return expiry(fields, now) is not None
