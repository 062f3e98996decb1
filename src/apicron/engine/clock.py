"""The engine's sense of time: the system clock, or one a test drives.

Every wait in the engine goes through ``sleep_until`` with a wake-up event, so a change
(start, stop, a manual run) or a driven clock moves the engine at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol


class EngineClock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event | None) -> None:
        """Return at ``when`` (never, if None), or earlier once ``wake`` is set."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event | None) -> None:
        delay = None if when is None else (when - self.now()).total_seconds()
        if delay is not None and delay <= 0:
            return
        if wake is None:
            await asyncio.sleep(delay if delay is not None else 3600)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), delay)


class DrivenClock:
    """A clock that moves only when told to; for tests of schedules over minutes or days."""

    def __init__(self, start: datetime):
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        due = [s for s in self._sleepers if s[0] <= self._now]
        self._sleepers = [s for s in self._sleepers if s[0] > self._now]
        for _, future in due:
            if not future.done():
                future.set_result(None)

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event | None) -> None:
        if when is not None and when <= self._now:
            return
        waits: set[asyncio.Future[object]] = set()
        if when is not None:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._sleepers.append((when, future))
            waits.add(future)  # type: ignore[arg-type]
        if wake is not None:
            waits.add(asyncio.ensure_future(wake.wait()))
        if not waits:
            await asyncio.Event().wait()
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
