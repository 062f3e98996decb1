"""The shapes every trigger shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# A fire instant (aware UTC) and the wall time that asked for it (naive, in the task zone).
Fire = tuple[datetime, datetime]


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
        return None if fire is None else fire[0]


@dataclass(frozen=True)
class FireTime:
    at: datetime
    local: datetime
    # True when a spring-forward gap moved the fire off the wall time it asked for.
    dst_shifted: bool
