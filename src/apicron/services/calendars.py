"""Business calendars (issue 18): CRUD, the checks tasks make, and a task's schedule with
its calendars applied (what the engine plans and the preview shows).

Viewers read calendars; operators and admins write them (``Permission.CALENDARS``). A
calendar that tasks follow cannot be deleted (409 naming them): detaching it silently
would change when those tasks fire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from apicron.calendars.holiday_source import check_holiday_source
from apicron.calendars.schedule import apply_calendars
from apicron.domain.access import Permission
from apicron.domain.calendars import (
    Calendar,
    CalendarCreate,
    CalendarUpdate,
    HolidaySource,
    unique_weekdays,
)
from apicron.domain.errors import Conflict, InvalidInput, NotFound
from apicron.domain.models import Page, StoredTask, TaskFields
from apicron.domain.problem_list import Problems
from apicron.domain.schedules import schedule_of
from apicron.services.audit import audit
from apicron.services.context import Context, new_id
from apicron.store.rows import CalendarChanges
from apicron.store.store import Queries
from apicron.triggers import FireTime, Schedule


def load_calendar(q: Queries, calendar_id: str) -> Calendar:
    calendar = q.get_calendar(calendar_id)
    if calendar is None:
        raise NotFound(f"no calendar with id {calendar_id!r}")
    return calendar


def _check_holidays(source: HolidaySource | None) -> None:
    if source is not None:
        check_holiday_source(source.country, source.subdivision)


def _holidays_row(source: HolidaySource | None) -> dict[str, object] | None:
    return None if source is None else source.model_dump(mode="json")


def create_calendar(ctx: Context, spec: CalendarCreate) -> Calendar:
    ctx.require(Permission.CALENDARS)
    _check_holidays(spec.holidays)
    now, calendar_id = ctx.now(), new_id()
    with ctx.store.write() as q:
        q.insert_calendar({
            "id": calendar_id, "name": spec.name, "description": spec.description,
            "exclude_dates": spec.exclude_dates,
            "exclude_weekdays": unique_weekdays(spec.exclude_weekdays),
            "holidays": _holidays_row(spec.holidays), "include_dates": spec.include_dates,
            "created_at": now, "updated_at": now,
        })
        calendar = load_calendar(q, calendar_id)
        audit(q, ctx, "create", "calendar", calendar_id, name=calendar.name, after=calendar)
        return calendar


def get_calendar(ctx: Context, calendar_id: str) -> Calendar:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return load_calendar(q, calendar_id)


def list_calendars(
    ctx: Context, *, name: str | None, offset: int, limit: int
) -> Page[Calendar]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_calendars(name=name, offset=offset, limit=limit)
    return Page[Calendar](total=total, items=items)


def update_calendar(ctx: Context, calendar_id: str, patch: CalendarUpdate) -> Calendar:
    """Changes the fields given; the started tasks that follow the calendar are planned
    with it from now on (occurrences already planned keep their times)."""
    ctx.require(Permission.CALENDARS)
    given = patch.model_fields_set
    if "holidays" in given:
        _check_holidays(patch.holidays)
    for name in ("name", "description", "exclude_dates", "include_dates", "exclude_weekdays"):
        if name in given and getattr(patch, name) is None:
            raise InvalidInput("must not be null", field=name)
    values: CalendarChanges = {}
    if patch.name is not None:
        values["name"] = patch.name
    if patch.description is not None:
        values["description"] = patch.description
    if patch.exclude_dates is not None:
        values["exclude_dates"] = patch.exclude_dates
    if patch.include_dates is not None:
        values["include_dates"] = patch.include_dates
    if patch.exclude_weekdays is not None:
        values["exclude_weekdays"] = unique_weekdays(patch.exclude_weekdays)
    if "holidays" in given:
        values["holidays"] = _holidays_row(patch.holidays)
    with ctx.scheduling() as q:
        before = load_calendar(q, calendar_id)
        if values:
            q.update_calendar(calendar_id, {**values, "updated_at": ctx.now()})
            _replan_followers(q, calendar_id, ctx.now())
        after = load_calendar(q, calendar_id)
        audit(q, ctx, "update", "calendar", calendar_id, name=after.name, before=before,
              after=after)
        return after


def _replan_followers(q: Queries, calendar_id: str, now: datetime) -> None:
    """Each started task that follows the calendar gets the next fire time the edited
    calendar gives from now on (its stored one may be a move the edit undid, or later than
    an occurrence the edit brought back). Occurrences already planned are not doubled: the
    store skips an occurrence recorded before. With none left, the stored one stays and
    the planner stops the task, saying so."""
    for task in q.started_tasks_following(calendar_id):
        following = task_schedule(q, task).first_at_or_after(now)
        if following is not None and following != task.next_fire_time:
            q.update_task(task.id, {"next_fire_time": following})


def delete_calendar(ctx: Context, calendar_id: str) -> None:
    """Refused (409 ``CALENDAR_IN_USE``, naming them) while tasks follow the calendar."""
    ctx.require(Permission.CALENDARS)
    with ctx.store.write() as q:
        calendar = load_calendar(q, calendar_id)
        users = q.tasks_following(calendar_id)
        if users:
            named = ", ".join(users[:10]) + (f" and {len(users) - 10} more"
                                             if len(users) > 10 else "")
            raise Conflict(f"calendar {calendar.name!r} is followed by the tasks {named}; "
                           "remove it from their calendar_ids first", code="CALENDAR_IN_USE")
        q.delete_calendar(calendar_id)
        audit(q, ctx, "delete", "calendar", calendar_id, name=calendar.name, before=calendar)


def check_calendars_exist(q: Queries, calendar_ids: Sequence[str]) -> None:
    """Every id in a task's ``calendar_ids`` names a calendar (400 naming
    ``calendar_ids[i]``)."""
    found = q.calendars_by_id(calendar_ids)
    problems = Problems()
    for index, calendar_id in enumerate(calendar_ids):
        if calendar_id not in found:
            problems.add(f"calendar_ids[{index}]",
                         f"no calendar with id {calendar_id!r} (see GET /v1/calendars)")
    problems.raise_any()


def calendars_of(q: Queries, calendar_ids: Sequence[str]) -> list[Calendar]:
    """The calendars, in the order given (ids that name none are left out)."""
    found = q.calendars_by_id(calendar_ids)
    return [found[i] for i in calendar_ids if i in found]


def task_schedule(
    q: Queries, task: StoredTask | TaskFields, *, effective_wall: datetime | None = None
) -> Schedule:
    """The task's schedule with its calendars applied (its plain schedule without)."""
    schedule = schedule_of(task, effective_wall=effective_wall)
    if not task.calendar_ids:
        return schedule
    return apply_calendars(schedule, calendars_of(q, task.calendar_ids), task.calendar_policy)


def next_fire_times(ctx: Context, task: StoredTask, count: int) -> list[FireTime]:
    """The next ``count`` fire times of ``task`` from now, its calendars applied (what the
    console's task page lists; issue 18). Raises InvalidInput when its trigger no longer
    makes a schedule (e.g. a zone gone from tzdata)."""
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        schedule = task_schedule(q, task)
    return schedule.preview(ctx.now(), count)
