"""Node registry: every apicron process registers itself and heart-beats.

``apicron nodes`` lists them; a node whose heartbeat is older than ``ALIVE_WITHIN`` is
shown as gone. The heartbeat is also this process's database probe: it tells
``ctx.health`` when the database goes away and when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from apicron import __version__
from apicron.domain.access import Permission
from apicron.domain.models import Node
from apicron.services.context import Context
from apicron.store.database import is_unavailable
from apicron.store.rows import NodeRow

log = logging.getLogger("apicron.nodes")

HEARTBEAT_EVERY = timedelta(seconds=2)
ALIVE_WITHIN = timedelta(seconds=10)
FORGET_AFTER = timedelta(days=1)


def list_nodes(ctx: Context) -> list[Node]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return q.list_nodes(alive_since=ctx.now() - ALIVE_WITHIN)


class Heartbeat:
    def __init__(self, ctx: Context):
        self._ctx = ctx
        now = ctx.now()
        self.row: NodeRow = {
            "id": ctx.node_id,
            "role": ctx.role,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "version": __version__,
            "started_at": now,
            "heartbeat_at": now,
        }
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self._register)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # The loop registers it once the database is back.
            self._ctx.health.failed(exc, source="heartbeat")
        self._task = asyncio.create_task(self._loop(), name="apicron-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        try:
            await asyncio.to_thread(self._remove)
        except Exception as exc:
            if not is_unavailable(exc):
                raise

    def _register(self) -> None:
        with self._ctx.store.write() as q:
            q.register_node(self.row)
            q.prune_nodes(self._ctx.now() - FORGET_AFTER)

    def _beat(self) -> None:
        with self._ctx.store.write() as q:
            q.heartbeat(self.row, self._ctx.now())

    def _remove(self) -> None:
        with self._ctx.store.write() as q:
            q.remove_node(self._ctx.node_id)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
            try:
                await asyncio.to_thread(self._beat)
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("heartbeat failed")
                    continue
                self._ctx.health.failed(exc, source="heartbeat")
            else:
                self._ctx.health.succeeded(source="heartbeat")
