"""An aiohttp server on loopback in a thread of its own, for backends the tests call."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, ClassVar

from aiohttp import web


class ThreadedServer:
    """Subclasses implement ``_handle``; ``SERVER_OPTIONS`` go to ``web.Server``."""

    SERVER_OPTIONS: ClassVar[dict[str, Any]] = {}
    SHUTDOWN_TIMEOUT = 60.0
    STOP_WAIT = 10.0

    def __init__(self) -> None:
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.ServerRunner | None = None

    def start(self) -> Any:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        server = web.Server(self._handle, access_log=None, **self.SERVER_OPTIONS)
        self._runner = web.ServerRunner(server, shutdown_timeout=self.SHUTDOWN_TIMEOUT)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._cleanup(), self._loop).result(self.STOP_WAIT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _cleanup(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
        # Handlers still waiting (a hanging backend) end here, not as "destroyed" tasks.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        raise NotImplementedError
