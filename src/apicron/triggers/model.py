"""The shapes every trigger shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol


class Fire(NamedTuple):
    """One fire of a trigger, before a ``Schedule`` bounds it (a tuple: triggers make one
    per fire, and the engine asks for many)."""

    # The instant, aware UTC.
    at: datetime
    # The naive wall time in the task zone that asked for it; it differs from ``at``'s own
    # wall time only when a spring-forward gap moved a fixed-time fire to the jump.
    wall: datetime
    # Absolute-time triggers only: the wall times (start, end) of a gap just before this
    # fire in which the trigger matched but, the clock having jumped, did not fire.
    skipped_gap: tuple[datetime, datetime] | None = None


class Trigger(Protocol):
    """Pure, immutable and thread-safe; every datetime in and out is aware UTC."""

    def first_at_or_after(self, t: datetime) -> datetime | None: ...

    def next_after(self, t: datetime) -> datetime | None: ...


class FireSource(Protocol):
    """What a ``Schedule`` needs from the trigger it bounds."""

    def next_fire(self, t: datetime) -> Fire | None:
        """The first fire strictly after the aware instant ``t``."""
        ...

    @property
    def description(self) -> str: ...

    @property
    def absolute_time(self) -> bool:
        """True when the trigger follows absolute time through DST changes (both passes of
        a repeated hour fire, a gap has nothing to catch up); False when it keeps fixed wall
        times (a repeated wall time fires once, a skipped one at the jump)."""
        ...

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things about the trigger's settings a user may have misread; empty when none."""
        ...


_MICROSECOND = timedelta(microseconds=1)


class FireSearch:
    """``first_at_or_after`` and ``next_after`` for a trigger that defines ``next_fire``."""

    def next_fire(self, t: datetime) -> Fire | None:
        raise NotImplementedError

    def first_at_or_after(self, t: datetime) -> datetime | None:
        # "At or after t" is "after t minus the clock's tick" (datetimes count microseconds).
        try:
            earlier = t - _MICROSECOND
        except OverflowError:
            earlier = t
        return self.next_after(earlier)

    def next_after(self, t: datetime) -> datetime | None:
        fire = self.next_fire(t)
        return None if fire is None else fire.at


@dataclass(frozen=True)
class FireTime:
    at: datetime
    local: datetime
    # True when a spring-forward gap moved the fire off the wall time it asked for.
    dst_shifted: bool
    # What a DST change did to or around this fire, in a few words; None when nothing.
    dst_note: str | None = None
