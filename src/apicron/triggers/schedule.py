"""A trigger bounded by its effective and end times, and the one way to build it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apicron.domain.errors import InvalidInput
from apicron.domain.vocabulary import MAX_INTERVAL as MAX_INTERVAL
from apicron.domain.vocabulary import TriggerType, choices
from apicron.triggers.at_trigger import AtTrigger
from apicron.triggers.calendar_trigger import UNITS, CalendarTrigger
from apicron.triggers.cron_parse import parse_cron
from apicron.triggers.cron_trigger import CronTrigger
from apicron.triggers.describe import format_clock, format_wall
from apicron.triggers.model import Fire, FireSource, FireTime
from apicron.triggers.zones import load_zone, repeat_pass

TRIGGER_TYPES = choices(TriggerType)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Schedule:
    """Fires of ``trigger`` at or after ``effective_time`` and at or before ``end_time``."""

    trigger: FireSource
    effective_time: datetime
    end_time: datetime | None
    zone: ZoneInfo

    def first_at_or_after(self, t: datetime) -> datetime | None:
        fire = self._first_fire(_utc(t, "time"))
        return None if fire is None else fire.at

    def next_after(self, t: datetime) -> datetime | None:
        fire = self._next_fire(_utc(t, "time"))
        return None if fire is None else fire.at

    def preview(self, after: datetime, count: int) -> list[FireTime]:
        """The next ``count`` fire times at or after ``max(after, effective_time)``."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInput("must be a whole number of 0 or more", field="count")
        fires: list[FireTime] = []
        fire = self._first_fire(_utc(after, "after")) if count else None
        while fire is not None:
            fires.append(self._fire_time(fire))
            if len(fires) == count:
                break
            fire = self._next_fire(fire.at)
        return fires

    @property
    def description(self) -> str:
        text = self.trigger.description
        if self.end_time is not None:
            text += f", until {format_wall(self.end_time.astimezone(self.zone))}"
        return text

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a user may have misread in the trigger's settings (a pure function of them);
        empty when nothing."""
        return self.trigger.warnings

    def _first_fire(self, t: datetime) -> Fire | None:
        # A microsecond is the clock's tick, so "at or after t" is "after t minus one tick".
        try:
            return self._next_fire(t - _MICROSECOND)
        except OverflowError:
            return self._next_fire(t)

    def _next_fire(self, t: datetime) -> Fire | None:
        if t < self.effective_time:
            try:
                t = self.effective_time - _MICROSECOND
            except OverflowError:
                t = self.effective_time
        fire = self.trigger.next_fire(t)
        if fire is None or (self.end_time is not None and fire.at > self.end_time):
            return None
        return fire

    def _fire_time(self, fire: Fire) -> FireTime:
        local = fire.at.astimezone(self.zone)
        wall = local.replace(tzinfo=None)
        return FireTime(
            at=fire.at,
            local=local,
            dst_shifted=wall != fire.wall,
            dst_note=self._dst_note(fire, wall),
        )

    def _dst_note(self, fire: Fire, wall: datetime) -> str | None:
        """Marks both DST cases under both rules (see ``cron_trigger``); ``wall`` is the
        fire's own wall time."""
        if wall != fire.wall:
            return (
                f"skipped wall time {format_clock(fire.wall)}: fired at the jump to "
                f"{format_clock(wall)} (fixed-time schedule)"
            )
        if fire.skipped_gap is not None:
            start, end = fire.skipped_gap
            return (
                f"the clock skipped {format_clock(start)}-{format_clock(end)}: no fires there "
                "to catch up (absolute-time schedule)"
            )
        which = repeat_pass(fire.at, self.zone)
        if not which:
            return None
        if self.trigger.absolute_time:
            which_pass = "first" if which == 1 else "second"
            return f"repeated hour: {which_pass} pass (absolute-time schedule)"
        # A fixed time fires at its first pass; only a calendar's effective time given with
        # the second pass's offset fires in the second.
        where = "at its first pass" if which == 1 else "here, in its second pass"
        return f"repeated wall time: fires once, {where} (fixed-time schedule)"


def build_trigger(
    *,
    trigger_type: str,
    cron_expression: str | None,
    interval_unit: str | None,
    interval_value: int | None,
    effective_time: datetime,
    timezone: str,
    end_time: datetime | None = None,
    effective_wall: datetime | None = None,
    run_at: datetime | None = None,
) -> Schedule:
    """Validate a task's trigger settings; ``InvalidInput`` names the first bad field.

    ``effective_wall`` is the naive wall time the user gave for ``effective_time`` when they
    gave it without an offset (``effective_time`` is then its instant by ``wall_to_utc``):
    a CALENDAR DAY/WEEK/MONTH trigger keeps that wall time even when a DST gap skipped it.
    ``run_at`` is an AT trigger's one instant (issue 18).
    """
    if trigger_type not in TRIGGER_TYPES:
        raise InvalidInput(
            f"must be one of {', '.join(TRIGGER_TYPES)}, got {_shown(trigger_type)}",
            field="trigger_type",
        )
    zone = load_zone(timezone)
    start = _utc(effective_time, "effective_time")
    end = None if end_time is None else _utc(end_time, "end_time")
    if end is not None and end < start:
        raise InvalidInput("must not be before effective_time", field="end_time")
    trigger: CronTrigger | CalendarTrigger | AtTrigger
    if trigger_type != "AT" and run_at is not None:
        raise InvalidInput(f"must be absent when trigger_type is {trigger_type}", field="run_at")
    if trigger_type == "AT":
        trigger = _at_trigger(cron_expression, interval_unit, interval_value, start, end,
                              run_at, zone)
    elif trigger_type == "CRON":
        for name, value in (("interval_unit", interval_unit), ("interval_value", interval_value)):
            if value is not None:
                raise InvalidInput("must be absent when trigger_type is CRON", field=name)
        if cron_expression is None:
            raise InvalidInput("is required when trigger_type is CRON", field="cron_expression")
        trigger = CronTrigger(parse_cron(cron_expression), zone)
    else:
        if cron_expression is not None:
            raise InvalidInput(
                "must be absent when trigger_type is CALENDAR", field="cron_expression"
            )
        unit, value = _interval_unit(interval_unit), _interval_value(interval_value)
        try:
            trigger = CalendarTrigger(unit, value, start, zone, effective_wall)
        except ValueError:
            raise InvalidInput(
                f"the wall time {effective_wall} is not effective_time's wall time in "
                f"{timezone}",
                field="effective_time",
            ) from None
    schedule = Schedule(trigger, start, end, zone)
    _require_a_fire(schedule)
    return schedule


def _at_trigger(
    cron_expression: str | None,
    interval_unit: str | None,
    interval_value: int | None,
    start: datetime,
    end: datetime | None,
    run_at: datetime | None,
    zone: ZoneInfo,
) -> AtTrigger:
    """Issue 18: an AT task has ``run_at`` and none of the other triggers' fields; it fires
    once, so an end time would say nothing (refused rather than ignored)."""
    for name, value in (("cron_expression", cron_expression), ("interval_unit", interval_unit),
                        ("interval_value", interval_value), ("end_time", end)):
        if value is not None:
            raise InvalidInput("must be absent when trigger_type is AT (it fires once, at "
                               "run_at)", field=name)
    if run_at is None:
        raise InvalidInput("is required when trigger_type is AT", field="run_at")
    at = _utc(run_at, "run_at").replace(microsecond=0)
    if at < start:
        raise InvalidInput(
            f"must not be before effective_time ({start:%Y-%m-%dT%H:%M:%SZ}), got "
            f"{at:%Y-%m-%dT%H:%M:%SZ}",
            field="run_at",
        )
    return AtTrigger(at, zone)


def _require_a_fire(schedule: Schedule) -> None:
    if schedule.first_at_or_after(schedule.effective_time) is not None:
        return
    start = f"{schedule.effective_time:%Y-%m-%dT%H:%M:%SZ}"
    try:
        before = schedule.effective_time - _MICROSECOND
    except OverflowError:
        before = schedule.effective_time
    unbounded = schedule.trigger.next_fire(before)
    if unbounded is not None:
        raise InvalidInput(
            f"leaves no fire time: the first one after effective_time {start} is "
            f"{unbounded.at:%Y-%m-%dT%H:%M:%SZ}",
            field="end_time",
        )
    raise InvalidInput(
        f"never fires at or after effective_time {start}; check the year, day and month fields",
        field="cron_expression",
    )


def _interval_unit(unit: str | None) -> str:
    if unit is None:
        raise InvalidInput(
            f"is required when trigger_type is CALENDAR: one of {', '.join(UNITS)}",
            field="interval_unit",
        )
    if unit not in UNITS:
        raise InvalidInput(
            f"must be one of {', '.join(UNITS)}, got {_shown(unit)}", field="interval_unit"
        )
    return unit


def _interval_value(value: int | None) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INTERVAL:
        raise InvalidInput(
            f"must be a whole number 1-{MAX_INTERVAL}, got {_shown(value)}", field="interval_value"
        )
    return value


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise InvalidInput(f"must be a datetime, got {_shown(moment)}", field=name)
    if moment.utcoffset() is None:
        raise InvalidInput("must be timezone-aware (carry a UTC offset)", field=name)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("is outside the representable range of dates", field=name) from None


def _shown(value: object) -> str:
    return repr(value)[:60]
