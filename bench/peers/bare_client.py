"""The floor for a Python scheduler: a bare aiohttp client loop, nothing else.

    python -m bench.peers.bare_client BACKEND --count 10000 --at EPOCH
    python -m bench.peers.bare_client BACKEND --count 2000 --every-second

At ``--at`` it starts ``--count`` GETs to ``/bare/<i>`` at once over one session of
``--concurrency`` connections (256, apicron's backend pool) with ``X-Apicron-Scheduled-Time``
and reads each answer: what any asyncio scheduler must at least spend to deliver a burst.
Prints ``{"event": "done", "seconds": …, "failed": …}``. With ``--every-second`` it starts
``--count`` GETs at every whole second instead (the *capacity* scenario's floor), each
second's calls as soon as its second comes, whether or not the last second's are done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime

import aiohttp


async def main(args: argparse.Namespace) -> None:
    stamp = datetime.fromtimestamp(args.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"X-Apicron-Scheduled-Time": stamp}
    failed = 0
    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.concurrency)) as session:

        async def call(i: int) -> None:
            nonlocal failed
            try:
                async with session.get(f"{args.backend}/bare/{i}", headers=headers) as response:
                    await response.read()
            except aiohttp.ClientError:
                failed += 1

        print(json.dumps({"event": "ready"}), flush=True)
        if args.every_second:
            await every_second(session, args)
            return
        await asyncio.sleep(max(0.0, args.at - time.time()))
        started = time.perf_counter()
        await asyncio.gather(*(call(i) for i in range(args.count)))
        seconds = time.perf_counter() - started
    print(json.dumps({"event": "done", "seconds": seconds, "failed": failed}), flush=True)


async def every_second(session: aiohttp.ClientSession, args: argparse.Namespace) -> None:
    """``--count`` calls at each whole second, until stopped."""
    running: set[asyncio.Task[None]] = set()

    async def call(i: int, headers: dict[str, str]) -> None:
        try:
            async with session.get(f"{args.backend}/bare/{i}", headers=headers) as response:
                await response.read()
        except aiohttp.ClientError:
            pass  # the backend's fault; the harness counts what arrived

    second = int(time.time()) + 1
    while True:
        await asyncio.sleep(max(0.0, second - time.time()))
        stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {"X-Apicron-Scheduled-Time": stamp}
        for i in range(args.count):
            task = asyncio.create_task(call(i, headers))
            running.add(task)
            task.add_done_callback(running.discard)
        second += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--at", type=float, default=0.0)
    parser.add_argument("--every-second", action="store_true",
                        help="--count calls at every whole second, until stopped")
    parser.add_argument("--concurrency", type=int, default=256)
    asyncio.run(main(parser.parse_args()))
