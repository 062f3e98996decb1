"""The engine's database thread: every transaction of the engine runs on it.

One dedicated thread, so the engine's transactions never contend with each other (and a
SQLite write lock is never waited for by two of them), and none runs on the event loop
that sends the calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from apicron.store.store import Queries, Store

T = TypeVar("T")


class EngineDatabase:
    def __init__(self, store: Store):
        self.store = store
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apicron-engine-db")

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (which opens its own transactions) on the engine's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn)

    async def write(self, fn: Callable[[Queries], T]) -> T:
        """Run ``fn`` in one write transaction on the engine's thread."""

        def in_transaction() -> T:
            with self.store.write() as q:
                return fn(q)

        return await self.call(in_transaction)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
