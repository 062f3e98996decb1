"""``POST /v1/cron/preview``: a trigger in words, what to watch for, and its next fire times."""

from __future__ import annotations

from apicron.calendars.schedule import CalendarChange, CalendarSchedule, apply_calendars
from apicron.domain.access import Permission
from apicron.domain.models import (
    Preview,
    PreviewCalendarChange,
    PreviewFireTime,
    PreviewRequest,
)
from apicron.domain.rules import whole_seconds
from apicron.services.calendars import calendars_of, check_calendars_exist
from apicron.services.context import Context
from apicron.services.tasks import to_utc_in_zone
from apicron.triggers import build_trigger, load_zone


def preview(ctx: Context, request: PreviewRequest) -> Preview:
    ctx.require(Permission.READ)
    now = ctx.now()
    zone = request.timezone
    if zone is None:
        with ctx.store.read() as q:
            zone = q.get_instance(ctx.gateway_url).timezone
    load_zone(zone)
    effective = to_utc_in_zone(request.effective_time, zone) or whole_seconds(now)
    typed = request.effective_time
    # A time typed without an offset is a wall time in the zone; a CALENDAR trigger keeps
    # it even when a DST gap skipped it (its UTC instant alone could not tell).
    wall = None if typed is None or typed.utcoffset() is not None else typed.replace(microsecond=0)
    schedule = build_trigger(
        trigger_type=request.trigger_type,
        cron_expression=request.cron_expression,
        interval_unit=request.interval_unit,
        interval_value=request.interval_value,
        effective_time=effective,
        timezone=zone,
        end_time=to_utc_in_zone(request.end_time, zone),
        effective_wall=wall,
        run_at=to_utc_in_zone(request.run_at, zone),
    )
    changes: list[CalendarChange] = []
    if request.calendar_ids:
        with ctx.store.read() as q:
            check_calendars_exist(q, request.calendar_ids)
            schedule = apply_calendars(schedule, calendars_of(q, request.calendar_ids),
                                       request.calendar_policy)
    if isinstance(schedule, CalendarSchedule):
        times, changes = schedule.explain(now, request.count)
    else:
        times = schedule.preview(now, request.count)
    notes = {c.moved_to: c.text for c in changes if c.moved_to is not None}
    return Preview(
        description=schedule.description,
        next_fire_times=[t.at for t in times],
        fire_times=[
            PreviewFireTime(
                at=t.at, local=t.local.isoformat(), dst_shifted=t.dst_shifted, dst_note=t.dst_note,
                calendar_note=notes.get(t.at),
            )
            for t in times
        ],
        warnings=list(schedule.warnings),
        calendar_changes=[
            PreviewCalendarChange(occurrence=c.occurrence, action=c.action, moved_to=c.moved_to,
                                  calendar=c.calendar, entry=c.entry, text=c.text)
            for c in changes
        ],
    )
