"""The one backend every scheduler calls: a small aiohttp server that records receipts.

Run as its own process (``python -m bench.backend PORT``), so that it never shares an event
loop with what it measures. For every request it keeps (receipt time, the
``X-Apicron-Scheduled-Time`` header, the occurrence's key, the first path segment, the
``X-Apicron-Attempt`` header, the status it answered). apicron sends the header itself;
every peer sends the time it meant to fire at. The key is ``X-Apicron-Task-Id`` when given,
else the path (each peer job calls its own path), so (key, scheduled) is one occurrence.

Paths:

* ``/__bench/stats`` answers every record so far as JSON and forgets them;
  ``/__bench/count`` answers how many there are (the harness polls it);
* ``/fault/hang`` never answers; ``/fault/reset`` drops the connection; ``/fault/big``
  answers 10 MB; ``/fault/trickle`` answers one byte every 100 ms for 20 s;
* ``/flaky/…`` fails at random (8 % 503, 2 % connection dropped, 2 % answers after 2 s);
* anything else answers ``200 ok`` at once.

Receipt time is taken before anything else, and the records are parsed only when the
harness asks for them, so recording costs the hot path almost nothing.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

from aiohttp import web

BIG = b"x" * (10 * 1024 * 1024)
Record = tuple[float, str, str, str, str, int]


def main(port: int) -> None:
    records: list[Record] = []

    async def answer(request: web.BaseRequest) -> web.StreamResponse:
        received = time.time()
        path = request.path
        headers = request.headers
        kind = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        if kind == "__bench":
            if path == "/__bench/count":
                return web.Response(text=str(len(records)))
            body = json.dumps(records)
            records.clear()
            return web.Response(text=body, content_type="application/json")
        key = headers.get("X-Apicron-Task-Id") or path
        scheduled = headers.get("X-Apicron-Scheduled-Time", "")
        attempt = headers.get("X-Apicron-Attempt", "1")
        status = 200
        if kind == "flaky":
            roll = random.random()
            if roll < 0.08:
                status = 503
            elif roll < 0.10:
                status = 0
            elif roll < 0.12:
                await asyncio.sleep(2)
        elif kind == "fault":
            status = 0 if path == "/fault/reset" else 200
        records.append((received, scheduled, key, kind, attempt, status))
        if status == 0:
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if path == "/fault/hang":
            await asyncio.sleep(3600)
        if path == "/fault/big":
            return web.Response(body=BIG)
        if path == "/fault/trickle":
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(200):
                await response.write(b".")
                await asyncio.sleep(0.1)
            return response
        return web.Response(text="ok", status=status)

    async def serve() -> None:
        runner = web.ServerRunner(web.Server(answer, access_log=None, handler_cancellation=True))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=8192).start()
        print(json.dumps({"event": "ready", "port": port}), flush=True)
        await asyncio.Event().wait()

    run(serve())


def run(main: Any) -> None:
    """``asyncio.run``, on uvloop when it is installed (the backend must not be the limit)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main(int(sys.argv[1]))
