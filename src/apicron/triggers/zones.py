"""IANA zones, their offset shifts, and the instants a wall-clock time stands for.

A wall time exists once, not at all (skipped by a spring-forward jump) or twice (repeated
when the clock falls back). ``wall_instants`` gives them all; ``wall_to_utc`` picks one by
the fixed-time rule (a skipped wall time resolves to the jump itself, a repeated one to its
first pass), which keeps the mapping from wall time to instant monotonic: that is what lets
the fixed-time triggers search in wall time. Absolute-time triggers search one offset
period at a time instead, between the ``Shift``s of ``next_shift``.
"""

from __future__ import annotations

import zoneinfo
from bisect import bisect_right
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apicron.domain.errors import InvalidInput

_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1)
# Offsets are probed this often to find shifts. Since 1970 no zone in tzdata changes its
# offset twice within a week (the closest pairs are 167 hours apart), so none is missed.
_PROBE = timedelta(hours=6)
_LAST_PROBE = datetime.max - _PROBE
# Present in the zone database but not a place: the server's own setting and a placeholder.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_PLACES


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``InvalidInput(field="timezone")`` otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            "is required: name an IANA time zone such as 'Europe/Berlin' or 'UTC'",
            field="timezone",
        )
    if name not in _known_names():
        hint = next((known for known in _known_names() if known.lower() == name.lower()), None)
        suggestion = f"; did you mean '{hint}'?" if hint else ", e.g. 'Europe/Berlin' or 'UTC'"
        raise InvalidInput(
            f"'{name[:100]}' is not an IANA time zone name{suggestion}", field="timezone"
        )
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise InvalidInput(
            f"'{name[:100]}' could not be loaded from the time zone database", field="timezone"
        ) from None


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a naive wall time in ``zone``, by the gap and repeat rules above."""
    before = zone.utcoffset(wall)
    after = zone.utcoffset(wall.replace(fold=1))
    if before is None or after is None:
        raise ValueError(f"{zone} has no UTC offset for {wall}")
    if before >= after:
        return (wall - before).replace(tzinfo=UTC)
    return _transition(zone, wall - after, wall - before)


def wall_instants(wall: datetime, zone: ZoneInfo) -> tuple[datetime, ...]:
    """Every aware UTC instant whose wall time in ``zone`` is the naive ``wall``, in order:
    none in a gap, two in a repeated hour (its first and second pass), one otherwise."""
    wall = wall.replace(fold=0)
    before = zone.utcoffset(wall)
    after = zone.utcoffset(wall.replace(fold=1))
    if before is None or after is None:
        raise ValueError(f"{zone} has no UTC offset for {wall}")
    if before < after:
        return ()
    first = (wall - before).replace(tzinfo=UTC)
    if before == after:
        return (first,)
    return first, (wall - after).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Shift:
    """A change of a zone's UTC offset: at the instant ``at`` (aware UTC, the first with the
    new offset) the wall clock jumps from ``wall_before`` to ``wall_after`` (naive)."""

    at: datetime
    before: timedelta
    after: timedelta

    @property
    def wall_before(self) -> datetime:
        return (self.at + self.before).replace(tzinfo=None)

    @property
    def wall_after(self) -> datetime:
        return (self.at + self.after).replace(tzinfo=None)

    @property
    def is_gap(self) -> bool:
        return self.after > self.before


@lru_cache(maxsize=4096)
def _shifts_in_year(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, ...], tuple[Shift, ...]]:
    """The instants and the shifts of ``zone``'s offset in the UTC calendar year ``year``."""
    shifts: list[Shift] = []
    probe = datetime(year, 1, 1)
    offset = _offset_at(zone, probe)
    while probe.year == year and probe < _LAST_PROBE:
        following = probe + _PROBE
        after = _offset_at(zone, following)
        if after != offset and offset is not None and after is not None:
            shifts.append(Shift(_transition(zone, probe, following), offset, after))
        probe, offset = following, after
    return tuple(shift.at for shift in shifts), tuple(shifts)


def next_shift(zone: ZoneInfo, t: datetime) -> Shift | None:
    """The first shift of ``zone``'s offset strictly after the aware ``t``, looking to the
    end of the following UTC year; None when there is none that soon."""
    for year in range(t.year, min(t.year + 1, MAXYEAR) + 1):
        instants, shifts = _shifts_in_year(zone, year)
        i = bisect_right(instants, t)
        if i < len(shifts):
            return shifts[i]
    return None


def repeat_pass(at: datetime, zone: ZoneInfo) -> int:
    """1 or 2 when the aware instant ``at`` falls in the first or second pass of a repeated
    wall time (a fall-back shift), else 0."""
    year = at.year
    # A repeat lasts hours: only on New Year's Eve or Day can one cross into ``at``'s year.
    near_new_year = (at.month, at.day) in ((1, 1), (12, 31))
    years = range(max(year - 1, MINYEAR), min(year + 1, MAXYEAR) + 1) if near_new_year else (year,)
    for each in years:
        for first, middle, end in _repeats_in_year(zone, each):
            if first <= at < end:
                return 1 if at < middle else 2
    return 0


@lru_cache(maxsize=4096)
def _repeats_in_year(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, datetime, datetime], ...]:
    """(first pass starts, second pass starts, second pass ends) of each fall-back shift."""
    return tuple(
        (shift.at - (shift.before - shift.after), shift.at, shift.at + (shift.before - shift.after))
        for shift in _shifts_in_year(zone, year)[1]
        if shift.before > shift.after
    )


def end_of_repeat(local: datetime, zone: ZoneInfo) -> datetime:
    """For a local time in the second pass of a repeated hour, the wall time the repeat ends.

    Every wall time before that resolves to the first pass, which is already in the past.
    """
    now_offset = zone.utcoffset(local)
    earlier_offset = zone.utcoffset(local.replace(fold=0))
    if now_offset is None or earlier_offset is None:
        raise ValueError(f"{zone} has no UTC offset for {local}")
    instant = local.replace(tzinfo=None) - now_offset
    shift = _transition(zone, instant - (earlier_offset - now_offset), instant)
    return shift.replace(tzinfo=None) + earlier_offset


def _transition(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first whole-second instant in (low, high] (naive UTC) with ``high``'s offset."""
    target = _offset_at(zone, high)
    low_second = (low - _EPOCH) // _SECOND
    high_second = -((_EPOCH - high) // _SECOND)
    while high_second - low_second > 1:
        middle = (low_second + high_second) // 2
        if _offset_at(zone, _EPOCH + middle * _SECOND) == target:
            high_second = middle
        else:
            low_second = middle
    return (_EPOCH + high_second * _SECOND).replace(tzinfo=UTC)


def _offset_at(zone: ZoneInfo, instant: datetime) -> timedelta | None:
    """None where the local time would fall outside the datetime range (year 1, 9999)."""
    try:
        return instant.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    except OverflowError:
        return None
