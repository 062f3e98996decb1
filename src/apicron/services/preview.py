"""``POST /v1/cron/preview``: a trigger in words, what to watch for, and its next fire times."""

from __future__ import annotations

from apicron.domain.access import Permission
from apicron.domain.models import Preview, PreviewFireTime, PreviewRequest
from apicron.domain.rules import whole_seconds
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
    times = schedule.preview(now, request.count)
    return Preview(
        description=schedule.description,
        next_fire_times=[t.at for t in times],
        fire_times=[
            PreviewFireTime(
                at=t.at, local=t.local.isoformat(), dst_shifted=t.dst_shifted, dst_note=t.dst_note
            )
            for t in times
        ],
        warnings=list(schedule.warnings),
    )
