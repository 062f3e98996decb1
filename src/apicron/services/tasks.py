"""Scheduled tasks: the seed's Table 1 and DESIGN.md's task rules, and the lifecycle.

INITIALIZED --start--> STARTED --stop--> STOPPED --start--> STARTED …
A STARTED task cannot be edited or deleted (stop it first); ``next_fire_time`` is set on
start and cleared on stop, so the engine only ever sees started tasks.

A one-off task (trigger AT, issue 18) stays STARTED, its next fire time cleared once its
occurrence is planned, until that execution ends; then it is COMPLETED, or deleted with
its history kept (``after_completion``; :mod:`apicron.store.one_off_queries`). A COMPLETED task
starts again only once its run_at is changed to a future time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from apicron.alerts.outbox import announce, record_results
from apicron.alerts.success import check_success
from apicron.domain import rules
from apicron.domain.access import Permission
from apicron.domain.alert_decisions import AlertFact
from apicron.domain.errors import ApicronError, Conflict, InvalidInput, NotFound
from apicron.domain.misfire import stopped_before_fired
from apicron.domain.models import (
    Instance,
    Page,
    PublishedApi,
    StoredTask,
    Task,
    TaskCreate,
    TaskFields,
    TaskUpdate,
)
from apicron.domain.schedules import latest_occurrences, schedule_of
from apicron.domain.task_prerequisites import api_not_published, check_callable_by
from apicron.domain.task_timing import check_fires_again, rfc3339
from apicron.domain.validation import check_all, validate
from apicron.services.audit import audit
from apicron.services.calendars import check_calendars_exist, task_schedule
from apicron.services.channels import check_channels_exist
from apicron.services.context import Context, new_id
from apicron.services.instance import require_task_params
from apicron.store.records import NewExecution
from apicron.store.rows import TaskChanges, TaskLifecycle, TaskSpecColumns
from apicron.store.store import Queries
from apicron.triggers import load_zone
from apicron.triggers.zones import wall_to_utc

_SPEC_FIELDS = tuple(TaskFields.model_fields)


def load_task(q: Queries, task_id: str) -> StoredTask:
    task = q.get_task(task_id)
    if task is None:
        raise NotFound(f"no scheduled task with id {task_id!r}")
    return task


def _fields_of(task: StoredTask) -> dict[str, Any]:
    fields = {f: getattr(task, f) for f in _SPEC_FIELDS}
    fields["request"] = task.request.model_dump()
    for name in ("success", "alerts"):
        value = getattr(task, name)
        fields[name] = None if value is None else value.model_dump(mode="json")
    return fields


def present(q: Queries, task: StoredTask) -> Task:
    return present_many(q, [task])[0]


def present_many(q: Queries, tasks: list[StoredTask]) -> list[Task]:
    last = q.last_executions([t.id for t in tasks])
    schedules = [task_schedule(q, t) if t.calendar_ids else schedule_of(t) for t in tasks]
    return [
        Task(
            **t.model_dump(),
            schedule_description=schedule.description,
            schedule_warnings=list(schedule.warnings),
            last_execution=last.get(t.id),
        )
        for t, schedule in zip(tasks, schedules, strict=True)
    ]


def to_utc_in_zone(value: datetime | None, zone_name: str) -> datetime | None:
    """Times without an offset are wall times in the task's zone (what a console user means)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = wall_to_utc(value.replace(tzinfo=None), load_zone(zone_name))
    return rules.whole_seconds(value.astimezone(UTC))


def typed_wall(fields: TaskFields) -> datetime | None:
    """The wall time a CALENDAR task's effective time was typed as, when typed without an
    offset: a DAY/WEEK/MONTH interval keeps it even when a DST gap skipped it that day
    (issue 13: 02:30 typed on the day Berlin jumps from 02:00 to 03:00 fires at the jump,
    then at 02:30, not at 03:00 ever after). None when an offset was given."""
    typed = fields.effective_time
    if fields.trigger_type != "CALENDAR" or typed is None or typed.utcoffset() is not None:
        return None
    return typed.replace(tzinfo=None, microsecond=0)


def _normalise(fields: TaskFields, instance: Instance, now: datetime) -> TaskFields:
    """Fill the defaults that depend on the instance and the clock, and put times in UTC."""
    zone = fields.timezone or instance.timezone
    load_zone(zone)
    effective = to_utc_in_zone(fields.effective_time, zone) or rules.whole_seconds(now)
    end = to_utc_in_zone(fields.end_time, zone)
    run_at = to_utc_in_zone(fields.run_at, zone)
    if end is not None and end <= effective:
        raise InvalidInput(
            f"must be after effective_time ({effective.isoformat()})", field="end_time"
        )
    interval_value = fields.interval_value
    if fields.trigger_type == "CALENDAR" and interval_value is None:
        interval_value = 1
    return fields.model_copy(
        update={
            "timezone": zone,
            "effective_time": effective,
            "end_time": end,
            "interval_value": interval_value,
            "run_at": run_at,
        }
    )


# The saving rules live in the domain, so that ``apicron apply --dry-run`` checks them too.
_check_fires_again = check_fires_again
_rfc3339 = rfc3339


def _check_api(q: Queries, fields: TaskFields) -> PublishedApi:
    """Seed: the API must be published, NONE or APP auth, and callable by the task's app."""
    app = q.get_app(fields.app_id)
    if app is None:
        raise InvalidInput(f"no integration app with id {fields.app_id!r}", field="app_id")
    api = q.get_published_api(fields.api_id)
    if api is None:
        draft = q.get_api(fields.api_id)
        if draft is None:
            raise InvalidInput(f"no API with id {fields.api_id!r}", field="api_id")
        raise api_not_published(draft.name)
    check_callable(q, fields.app_id, app.name, api)
    rules.split_path_params("request.query", api.path, fields.request.query)
    if fields.request.body is not None:
        rules.check_body_allowed("request.body", api.method)
    return api


def check_callable(q: Queries, app_id: str, app_name: str, api: PublishedApi) -> None:
    """Seed: an API of another app must be APP-auth, and the task's app must hold a grant.

    Checked on create, update and start here, and again by the engine at every fire.
    """
    # An API a task may not call, lazily: has_grant is asked only for another app's API.
    same = api.app_id == app_id
    check_callable_by(app_name=app_name, api_name=api.name, same_app=same,
                      auth_type=api.auth_type,
                      granted=same or api.auth_type != "APP" or q.has_grant(app_id, api.id))


def _row(fields: TaskFields) -> TaskSpecColumns:
    """The columns of a normalised spec (``_normalise`` has filled the time and zone)."""
    assert fields.effective_time is not None and fields.timezone is not None, "normalised"
    success, alerts = fields.success, fields.alerts
    return {
        "name": fields.name,
        "app_id": fields.app_id,
        "description": fields.description,
        "effective_time": fields.effective_time,
        "end_time": fields.end_time,
        "timezone": fields.timezone,
        "trigger_type": fields.trigger_type,
        "cron_expression": fields.cron_expression,
        "interval_unit": fields.interval_unit,
        "interval_value": fields.interval_value,
        "max_retries": fields.max_retries,
        "api_id": fields.api_id,
        "request": fields.request.model_dump(mode="json"),
        "misfire_policy": fields.misfire_policy,
        "overlap_policy": fields.overlap_policy,
        "success": None if success is None else success.model_dump(mode="json"),
        "alerts": None if alerts is None else alerts.model_dump(mode="json"),
        "run_at": fields.run_at,
        "after_completion": fields.after_completion,
        "jitter_s": fields.jitter_s,
        "jitter_mode": fields.jitter_mode,
        "timeout_ms": fields.timeout_ms,
        "retry_backoff_base_ms": fields.retry_backoff_base_ms,
        "retry_backoff_cap_ms": fields.retry_backoff_cap_ms,
        "calendar_ids": list(fields.calendar_ids),
        "calendar_policy": fields.calendar_policy,
        "tags": dict(fields.tags),
    }


def check_alerting(q: Queries, fields: TaskFields) -> None:
    """Issue 14: the success conditions' expressions compile, and the alert rules name
    channels that exist."""
    check_all(lambda: check_success(fields.success),
              lambda: check_channels_exist(q, fields.alerts, "alerts"))


def create_task(ctx: Context, spec: TaskCreate) -> Task:
    ctx.require(Permission.TASKS)
    now, task_id = ctx.now(), new_id()
    with ctx.store.write() as q:
        instance = q.get_instance(ctx.gateway_url)
        require_task_params(instance)
        wall = typed_wall(spec)
        fields = _normalise(spec, instance, now)
        check_all(lambda: _check_fires_again(fields, now, wall), lambda: _check_api(q, fields),
                  lambda: check_alerting(q, fields),
                  lambda: check_calendars_exist(q, fields.calendar_ids))
        lifecycle: TaskLifecycle = {
            "id": task_id,
            "effective_wall": wall,
            "status": "INITIALIZED",
            "next_fire_time": None,
            "created_at": now,
            "updated_at": now,
        }
        q.insert_task({**_row(fields), **lifecycle})
        task = load_task(q, task_id)
        audit(q, ctx, "create", "task", task_id, name=task.name, after=task)
        return present(q, task)


def get_task(ctx: Context, task_id: str) -> Task:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return present(q, load_task(q, task_id))


def list_tasks(
    ctx: Context,
    *,
    name: str | None,
    status: str | None,
    app_id: str | None,
    api_id: str | None,
    offset: int,
    limit: int,
    tags: dict[str, str] | None = None,
    name_prefix: str | None = None,
) -> Page[Task]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_tasks(
            name=name, status=status, app_id=app_id, api_id=api_id, offset=offset, limit=limit,
            tags=tags, name_prefix=name_prefix,
        )
        return Page[Task](total=total, items=present_many(q, items))


def _refuse_started(task: StoredTask, action: str) -> None:
    if task.status == "STARTED":
        raise Conflict(
            f"task {task.name!r} is STARTED and cannot be {action}; stop it first",
            code="TASK_STARTED",
        )


def update_task(ctx: Context, task_id: str, patch: TaskUpdate) -> Task:
    ctx.require(Permission.TASKS)
    with ctx.scheduling() as q:
        task = load_task(q, task_id)
        _refuse_started(task, "edited")
        merged = _fields_of(task)
        # Fields given in the request change, an explicit null included.
        merged.update(patch.model_dump(exclude_unset=True))
        if merged.get("tags") is None:  # an explicit null clears the tags
            merged["tags"] = {}
        fields = validate(TaskFields, merged)
        given = patch.model_fields_set
        # The wall time typed at create is kept unless the time, the zone or the trigger
        # it was typed for changes.
        wall = typed_wall(fields) if given & {"effective_time", "timezone"} else (
            task.effective_wall if fields.trigger_type == "CALENDAR" else None)
        now = ctx.now()
        fields = _normalise(fields, q.get_instance(ctx.gateway_url), now)
        check_all(lambda: _check_fires_again(fields, now, wall), lambda: _check_api(q, fields),
                  lambda: check_alerting(q, fields),
                  lambda: check_calendars_exist(q, fields.calendar_ids))
        edited: TaskChanges = {"effective_wall": wall, "updated_at": ctx.now()}
        q.update_task(task_id, {**_row(fields), **edited})
        after = load_task(q, task_id)
        audit(q, ctx, "update", "task", task_id, name=after.name, before=task, after=after)
        return present(q, after)


def delete_task(ctx: Context, task_id: str) -> None:
    ctx.require(Permission.TASKS)
    with ctx.scheduling() as q:
        task = load_task(q, task_id)
        _refuse_started(task, "deleted")
        q.delete_task(task_id)
        audit(q, ctx, "delete", "task", task_id, name=task.name, before=task)


def _first_fire_on_start(ctx: Context, q: Queries, task: StoredTask, now: datetime) -> datetime:
    """The first fire time a start at ``now`` gives ``task``; raises what ``start_task``
    refuses it with (instance parameters off, API or grant gone, no fire time left)."""
    require_task_params(q.get_instance(ctx.gateway_url))
    _check_api(q, validate(TaskFields, _fields_of(task)))
    # Resuming never back-fills the stopped period: the first fire is from now on.
    next_fire = task_schedule(q, task).first_at_or_after(now)
    if next_fire is None and task.trigger_type == "AT":
        # Issue 18: a one-off task (COMPLETED, or never started in time) starts again
        # only with a run_at ahead: its one occurrence is never made up for late.
        raise Conflict(
            f"the one-off task's run_at ({_rfc3339(task.run_at or now)}) has passed; "
            "change run_at to a future time first",
            field="run_at",
            code="TASK_EXPIRED",
        )
    if next_fire is None:
        raise Conflict(
            "the task has no fire time left (its end_time has passed or its trigger "
            "never matches again); change end_time or the trigger first",
            field="end_time",
            code="TASK_EXPIRED",
        )
    return next_fire


def start_refusals(ctx: Context, task_ids: Sequence[str]) -> dict[str, ApicronError]:
    """Why :func:`start_task` would refuse each of ``task_ids`` now, for those it would
    refuse (a STARTED task is not refused: starting it changes nothing). Nothing is
    written. The console offers Start only where this says nothing (issue 15)."""
    ctx.require(Permission.TASKS)
    now = ctx.now()
    refused: dict[str, ApicronError] = {}
    with ctx.store.read() as q:
        for task_id in task_ids:
            task = load_task(q, task_id)
            if task.status == "STARTED":
                continue
            try:
                _first_fire_on_start(ctx, q, task, now)
            except ApicronError as error:
                refused[task_id] = error
    return refused


def start_task(ctx: Context, task_id: str) -> Task:
    ctx.require(Permission.TASKS)
    now = ctx.now()
    with ctx.scheduling() as q:
        task = load_task(q, task_id)
        if task.status == "STARTED":
            return present(q, task)
        next_fire = _first_fire_on_start(ctx, q, task, now)
        q.update_task(
            task_id,
            {"status": "STARTED", "next_fire_time": next_fire, "stop_reason": None,
             "updated_at": now},
        )
        after = load_task(q, task_id)
        audit(q, ctx, "start", "task", task_id, name=after.name, before=task, after=after)
        return present(q, after)


def stop_task(ctx: Context, task_id: str, note: str | None = None) -> Task:
    """Stop a started task: nothing fires after this returns.

    ``note`` (issue 18: "paused: backend migration until Friday") is kept as the task's
    ``stop_reason`` until it is started again; given for a task already STOPPED, it
    replaces the note.

    Every occurrence that was due up to now leaves a row: those planned but not fired and
    those not even planned yet (the engine behind schedule, or no engine running) are
    recorded MISSED, saying so; those ahead are discarded (issue 13: a stop under overload
    used to drop thousands of due occurrences without a trace).
    """
    ctx.require(Permission.TASKS)
    now = ctx.now()
    recorded = None
    with ctx.scheduling() as q:
        task = load_task(q, task_id)
        if task.status == "INITIALIZED":
            raise Conflict(
                f"task {task.name!r} has never been started", code="TASK_NOT_STARTED"
            )
        if task.status == "STARTED":
            q.update_task(
                task_id,
                {"status": "STOPPED", "next_fire_time": None, "stop_reason": note,
                 "updated_at": now},
            )
            # Occurrences planned ahead but not yet fired must not fire after this returns.
            missed = q.due_pending(task_id, now)
            q.discard_pending(task_id, now, lambda at: stopped_before_fired(at, now))
            unplanned = _unplanned_due(q, task, now)
            missed += sorted(q.insert_executions(unplanned))
            after = load_task(q, task_id)
            audit(q, ctx, "stop", "task", task_id, name=after.name, before=task, after=after)
            # Issue 14: occurrences the stop records MISSED go through the alert rules.
            recorded = record_results(q, [
                AlertFact(i, task_id, "MISSED", now, None,
                          "the task was stopped before apicron fired it")
                for i in missed
            ], now)
        elif note is not None:
            q.update_task(task_id, {"stop_reason": note, "updated_at": now})
            after = load_task(q, task_id)
            audit(q, ctx, "stop", "task", task_id, name=after.name, before=task, after=after)
        result = present(q, load_task(q, task_id))
    if recorded is not None:
        announce(recorded)
    return result


# The history kept per task by default: older rows would be pruned at once anyway.
_MAX_UNPLANNED = 1000


def _unplanned_due(q: Queries, task: StoredTask, now: datetime) -> list[NewExecution]:
    """MISSED rows for the occurrences from the task's next fire time up to ``now`` that
    no engine planned before the stop (the latest ``_MAX_UNPLANNED`` of them)."""
    if task.next_fire_time is None or task.next_fire_time > now:
        return []
    due = latest_occurrences(task_schedule(q, task), task.next_fire_time, now, _MAX_UNPLANNED)
    return [
        NewExecution(id=new_id(), task_id=task.id, scheduled_at=t, status="MISSED",
                     created_at=now, finished_at=now, error_msg=stopped_before_fired(t, now))
        for t in due
    ]
