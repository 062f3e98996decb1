"""IANA zones and the rules that turn a wall-clock time into one instant.

A wall time skipped by a spring-forward jump resolves to the jump itself; a repeated wall
time (fall back) resolves to its first occurrence. Both rules keep the mapping from wall
time to instant monotonic, which is what lets the triggers search in wall time.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apicron.domain.errors import InvalidInput

_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1)
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
    return instant.replace(tzinfo=UTC).astimezone(zone).utcoffset()
