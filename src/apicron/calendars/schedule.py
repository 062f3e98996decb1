"""A task's schedule with its business calendars applied (issue 18).

Every fire of the task's own trigger (its *occurrence*) becomes exactly one *event*, at a
time that is unique to it, so the unique (task_id, scheduled_at) keeps exactly-once:

- on an included day: it runs at its own time;
- on an excluded day with policy ``SKIP``: an event at its own time that is recorded
  SKIPPED ("excluded by calendar <name>: <entry>"), never silently dropped;
- on an excluded day with ``NEXT`` / ``PREVIOUS``: it runs at the same wall time on the next
  / previous included day (up to ``MAX_SHIFT_DAYS`` away), by the zone's fixed-time rule: a
  wall time a spring-forward gap skips that day fires at the jump, a repeated one at its
  first pass. It stays an event at its own time, recorded SKIPPED and saying why, when it
  cannot move: no included day within reach, the move would leave the task's
  effective/end times, or another occurrence already runs at that instant (one at that time
  of the included day itself, or an earlier occurrence moved there first): a move never
  makes two executions of one instant.

So the events on an included day are its own fires plus the fires moved in from the run of
excluded days next to it; the events on an excluded day are its fires that do not move.
``next_after``/``first_at_or_after`` walk these events day by day (a pure function of the
trigger and the calendars, so the engine's planning and the preview agree), and
:meth:`CalendarSchedule.outcome` says what one event is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from apicron.calendars.days import CalendarDays, Exclusion
from apicron.domain.calendars import Calendar
from apicron.triggers import FireTime, Schedule
from apicron.triggers.describe import format_wall
from apicron.triggers.model import Fire
from apicron.triggers.zones import wall_to_utc

MAX_SHIFT_DAYS = 31
_TICK = timedelta(microseconds=1)
_DAY = timedelta(days=1)
# A walk that finds nothing for this many days ends (a calendar that excludes every day
# with NEXT/PREVIOUS still yields SKIPPED events, so only an exhausted trigger gets here).
_MAX_WALK_DAYS = 40_000


@dataclass(frozen=True)
class Outcome:
    """What one event of a :class:`CalendarSchedule` is.

    ``at``: the event's instant (the execution's ``scheduled_at``); ``occurrence``: the
    trigger's own fire time it comes from (``at`` unless moved); ``skipped``: the SKIPPED
    message when it does not run; ``moved``: a note when it runs moved; ``exclusion``: the
    calendar entry that removed or moved it (None when the calendars left it alone).
    """

    at: datetime
    occurrence: datetime
    skipped: str | None = None
    moved: str | None = None
    exclusion: Exclusion | None = None


@dataclass(frozen=True)
class CalendarChange:
    """For a preview: an occurrence a calendar removed or moved, in words
    (``"2027-12-25 skipped: Christmas Day (DE)"``)."""

    occurrence: datetime
    action: str
    """``SKIPPED`` or ``MOVED``."""
    moved_to: datetime | None
    calendar: str
    entry: str
    text: str


@dataclass(frozen=True)
class CalendarSchedule(Schedule):
    """A :class:`~apicron.triggers.Schedule` whose fire times are the events above."""

    days: CalendarDays = field(compare=False, kw_only=True)
    policy: str = field(default="SKIP", kw_only=True)

    @property
    def description(self) -> str:
        word = {"SKIP": "skipped", "NEXT": "moved to the next included day",
                "PREVIOUS": "moved to the previous included day"}[self.policy]
        names = ", ".join(self.days.names)
        return f"{super().description}; on days excluded by calendar {names}: {word}"

    # -- the trigger's own fires -----------------------------------------------------------

    def _raw_next(self, t: datetime) -> datetime | None:
        return Schedule.next_after(self, t)

    def _is_raw(self, t: datetime) -> bool:
        return Schedule.first_at_or_after(self, t) == t

    # -- days and wall times ---------------------------------------------------------------

    def _day(self, t: datetime) -> date:
        return t.astimezone(self.zone).date()

    def _wall(self, t: datetime) -> time:
        return t.astimezone(self.zone).time().replace(fold=0)

    def _at(self, wall: time, day: date) -> datetime:
        return wall_to_utc(datetime.combine(day, wall), self.zone)

    def _start(self, day: date) -> datetime:
        return self._at(time(), day)

    def _step(self) -> int:
        return 1 if self.policy == "NEXT" else -1

    def _target_day(self, day: date) -> date | None:
        """The included day an occurrence on the excluded ``day`` moves to, if in reach."""
        step = self._step()
        for k in range(1, MAX_SHIFT_DAYS + 1):
            candidate = day + timedelta(days=k * step)
            if self.days.included(candidate):
                return candidate
        return None

    def _feeders(self, day: date) -> list[date]:
        """The excluded days whose occurrences move to the included ``day``, earliest
        first (the run of excluded days before it for NEXT, after it for PREVIOUS)."""
        step = -self._step()
        run: list[date] = []
        for k in range(1, MAX_SHIFT_DAYS + 1):
            candidate = day + timedelta(days=k * step)
            if self.days.included(candidate):
                break
            run.append(candidate)
        return sorted(run)

    def _in_bounds(self, at: datetime) -> bool:
        return at >= self.effective_time and (self.end_time is None or at <= self.end_time)

    # -- one occurrence on an excluded day -------------------------------------------------

    def _move(self, occurrence: datetime, exclusion: Exclusion) -> tuple[datetime | None, str]:
        """Where an occurrence on an excluded day runs (None: it does not), and why."""
        day = self._day(occurrence)
        target_day = self._target_day(day)
        word = "next" if self.policy == "NEXT" else "previous"
        if target_day is None:
            return None, (f"{exclusion.text}; no {word} included day within "
                          f"{MAX_SHIFT_DAYS} days")
        target = self._at(self._wall(occurrence), target_day)
        if not self._in_bounds(target):
            edge = "end_time" if self.policy == "NEXT" else "effective_time"
            return None, (f"{exclusion.text}; the {word} included day {target_day} is past "
                          f"the task's {edge}")
        if self._is_raw(target) or self._taken_earlier(occurrence, target, target_day):
            return None, (f"{exclusion.text}; moved to {self._shown(target)}, where another "
                          "occurrence already runs")
        return target, f"moved from {self._shown(occurrence)}: {exclusion.text}"

    def _taken_earlier(self, occurrence: datetime, target: datetime, target_day: date) -> bool:
        """An earlier occurrence of the same wall time on the same run of excluded days
        moves to ``target`` first (the earliest one runs, the others are recorded)."""
        wall, day = self._wall(occurrence), self._day(occurrence)
        for feeder in self._feeders(target_day):
            if feeder >= day:
                return False
            other = self._at(wall, feeder)
            if self._is_raw(other) and self._at(self._wall(other), target_day) == target:
                return True
        return False

    # -- events ----------------------------------------------------------------------------

    def outcome(self, at: datetime) -> Outcome:
        """What the event at ``at`` (a fire time this schedule gave) is."""
        day = self._day(at)
        exclusion = self.days.exclusion(day)
        if exclusion is not None:
            if self.policy == "SKIP":
                return Outcome(at, at, skipped=exclusion.text, exclusion=exclusion)
            _, why = self._move(at, exclusion)
            return Outcome(at, at, skipped=why, exclusion=exclusion)
        if self.policy == "SKIP" or self._is_raw(at):
            return Outcome(at, at)
        for feeder in self._feeders(day):
            feeder_exclusion = self.days.exclusion(feeder)
            assert feeder_exclusion is not None
            for occurrence in self._sources(at, feeder):
                target, why = self._move(occurrence, feeder_exclusion)
                if target == at:
                    return Outcome(at, occurrence, moved=why, exclusion=feeder_exclusion)
        # Not reached for an event the walk gave; should it be, the event still runs.
        return Outcome(at, at, moved="moved here by a calendar")

    def _sources(self, at: datetime, feeder: date) -> list[datetime]:
        """The occurrences of ``feeder`` that may move to ``at``: the one at the same wall
        time or, when a DST gap moved the target to the jump, those of the hours before
        it (a gap is at most a few hours)."""
        wall = self._wall(at)
        same = self._at(wall, feeder)
        if self._is_raw(same) and self._wall(same) == wall:
            return [same]
        start = datetime.combine(feeder, wall) - timedelta(hours=3)
        low = self._start(feeder) if start.date() < feeder else self._at(start.time(), feeder)
        found: list[datetime] = []
        occurrence = self._raw_next(low - _TICK)
        while occurrence is not None and self._day(occurrence) == feeder:
            if self._wall(occurrence) > wall:
                break
            found.append(occurrence)
            occurrence = self._raw_next(occurrence)
        return found

    def next_after(self, t: datetime) -> datetime | None:
        after = t
        day = self._day(t)
        for _ in range(_MAX_WALK_DAYS):
            found = self._first_on(day, after)
            if found is not None:
                return found
            following = self._next_day(day)
            if following is None:
                return None
            day = following
            after = self._start(day) - _TICK
        return None

    def first_at_or_after(self, t: datetime) -> datetime | None:
        return self.next_after(t - _TICK)

    def _first_on(self, day: date, after: datetime) -> datetime | None:
        """The first event on ``day`` strictly after ``after``."""
        end = self._start(day + _DAY)
        exclusion = self.days.exclusion(day)
        if exclusion is not None:
            occurrence = self._raw_next(after)
            while occurrence is not None and occurrence < end:
                if self.policy == "SKIP" or self._move(occurrence, exclusion)[0] is None:
                    return occurrence
                occurrence = self._raw_next(occurrence)
            return None
        candidates: list[datetime] = []
        own = self._raw_next(after)
        if own is not None and own < end:
            candidates.append(own)
        if self.policy != "SKIP":
            low = max(after, self._start(day) - _TICK)
            for feeder in self._feeders(day):
                moved = self._first_moved_in(feeder, day, low)
                if moved is not None:
                    candidates.append(moved)
        return min(candidates, default=None)

    def _first_moved_in(self, feeder: date, day: date, after: datetime) -> datetime | None:
        """The first instant after ``after`` on the included ``day`` that an occurrence of
        the excluded ``feeder`` moves to (whichever occurrence runs there in the end: the
        instant is an event either way)."""
        end = self._start(feeder + _DAY)
        # The target keeps the wall time, so occurrences with an earlier wall time land
        # at or before ``after``.
        if after < self._start(day):
            begin = self._start(feeder) - _TICK
        else:
            begin = self._at(self._wall(after), feeder) - _TICK
        occurrence = self._raw_next(begin)
        while occurrence is not None and occurrence < end:
            target = self._at(self._wall(occurrence), day)
            if target > after:
                return target if self._in_bounds(target) else None
            occurrence = self._raw_next(occurrence)
        return None

    def _next_day(self, day: date) -> date | None:
        """The next day that may hold an event, or None when none can."""
        following = self._raw_next(self._start(day + _DAY) - _TICK)
        if self.policy == "NEXT":
            # Occurrences of the days just walked may still move forward.
            recent = Schedule.first_at_or_after(
                self, self._start(day - timedelta(days=MAX_SHIFT_DAYS)))
            if recent is not None and recent < self._start(day + _DAY):
                return day + _DAY
            return None if following is None else self._day(following)
        if following is None:
            return None
        if self.policy == "PREVIOUS":
            return max(day + _DAY, self._day(following) - timedelta(days=MAX_SHIFT_DAYS))
        return self._day(following)

    # -- preview ---------------------------------------------------------------------------

    def preview(self, after: datetime, count: int) -> list[FireTime]:
        return self.explain(after, count)[0]

    def explain(
        self, after: datetime, count: int, max_changes: int = 100
    ) -> tuple[list[FireTime], list[CalendarChange]]:
        """The next ``count`` times the task runs at or after ``after`` (and its effective
        time), and every occurrence on the way a calendar removed or moved (at most
        ``max_changes``)."""
        fires: list[FireTime] = []
        changes: list[CalendarChange] = []
        at = self.first_at_or_after(max(after, self.effective_time)) if count else None
        while at is not None and len(fires) < count and len(changes) < max_changes:
            outcome = self.outcome(at)
            exclusion = outcome.exclusion
            if outcome.skipped is not None:
                assert exclusion is not None
                changes.append(CalendarChange(
                    at, "SKIPPED", None, exclusion.calendar, exclusion.entry,
                    f"{self._day(at)} skipped: {exclusion.entry}"))
            else:
                if outcome.occurrence != at and exclusion is not None:
                    changes.append(CalendarChange(
                        outcome.occurrence, "MOVED", at, exclusion.calendar, exclusion.entry,
                        f"{self._day(outcome.occurrence)} moved to {self._day(at)}: "
                        f"{exclusion.entry}"))
                fires.append(self._fire_time(self._fire_of(outcome)))
            at = self.next_after(at)
        return fires, changes

    def _fire_of(self, outcome: Outcome) -> Fire:
        if outcome.occurrence == outcome.at:
            fire = self.trigger.next_fire(outcome.at - _TICK)
            if fire is not None and fire.at == outcome.at:
                return fire
            return Fire(outcome.at, outcome.at.astimezone(self.zone).replace(tzinfo=None))
        wall = datetime.combine(self._day(outcome.at), self._wall(outcome.occurrence))
        return Fire(outcome.at, wall)

    def _shown(self, at: datetime) -> str:
        return format_wall(at.astimezone(self.zone))


def apply_calendars(
    schedule: Schedule, calendars: Sequence[Calendar], policy: str
) -> Schedule:
    """``schedule`` with ``calendars`` applied by ``policy`` (itself when there are none)."""
    if not calendars:
        return schedule
    return CalendarSchedule(schedule.trigger, schedule.effective_time, schedule.end_time,
                            schedule.zone, days=CalendarDays(calendars), policy=policy)
