"""One gateway worker process: ``python -m apicron.gateway.worker SLOT``, started by
:class:`apicron.gateway.workers.GatewayWorkers` when ``APICRON_GATEWAY_WORKERS`` > 1.

It is a gateway node of its own in all but the node list: its own store connections,
snapshot cache and change watcher (so a publish or a revocation reaches it as it reaches
a separate ``--role gateway`` process), listening on the shared port with SO_REUSEPORT.

The parent speaks to it through two pipes, never through arguments or the environment
(the settings hold the secret key and the database password):

* stdin: one line, the settings as JSON; then nothing. End of file (the parent is gone,
  even killed -9) stops the worker as SIGTERM does: a worker never outlives its parent.
* stdout: one line, ``ready <pid>`` once listening, or ``error <message>`` (a setting or
  the port: the parent fails at start with that line). Anything else the process prints
  goes to stderr, the log, which the worker shares with its parent.

SIGTERM (or SIGINT) drains: stop accepting, let calls in flight finish (5 s at most), exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import TextIO

from apicron.collector import settle_collector
from apicron.crypto import load_secret_box
from apicron.domain.errors import ConfigurationError
from apicron.gateway.listener import Gateway
from apicron.logs import configure_logging, set_node_id
from apicron.services.change_watcher import ChangeWatcher
from apicron.services.context import Context
from apicron.settings import Settings
from apicron.store.database import make_engine
from apicron.store.store import Store
from apicron.tls import gateway_context

log = logging.getLogger("apicron.gateway")


def _context(settings: Settings) -> Context:
    # The parent upgraded the schema and checked the stored credentials before starting
    # any worker: a worker only reads (and writes replay-guard rows).
    store = Store(make_engine(settings.database_url))
    box = load_secret_box(settings.secret_key, settings.data_dir)
    return Context(store=store, secrets=box, gateway_url=settings.gateway_url,
                   role="gateway", outbound=settings.outbound_policy)


def _stop_on_end_of_input(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` when stdin reaches its end: the parent closed it, or died."""

    def wait() -> None:
        # The file descriptor, not sys.stdin: a thread blocked inside a buffered reader
        # holds its lock, which the interpreter's shutdown then waits for in vain.
        with contextlib.suppress(OSError):
            while os.read(0, 65536):
                pass
        with contextlib.suppress(RuntimeError):  # the loop is closed: stopped already
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait, name="apicron-parent-watch", daemon=True).start()


async def _serve(settings: Settings, ctx: Context, slot: int, channel: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    _stop_on_end_of_input(loop, stop)
    watcher = ChangeWatcher(ctx).start()
    try:
        gateway = Gateway(ctx, outbound=settings.outbound_policy, worker=slot)
        await gateway.start(settings.gateway_host, settings.gateway_port,
                            gateway_context(settings), reuse_port=True)
        settle_collector()  # as serve does: no collection pass stalls the calls in flight
        try:
            channel.write(f"ready {os.getpid()}\n")
            channel.flush()
            await stop.wait()
        finally:
            await gateway.close()
    finally:
        watcher.stop()


def _read_line(fd: int) -> bytes:
    """One line from ``fd``, read a byte at a time: nothing after it is taken (the rest of
    the pipe is watched for its end)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return bytes(line)


def main(argv: list[str]) -> int:
    """Run worker ``argv[0]`` (1…N) with the settings read from stdin; the exit code."""
    # The pipe to the parent is fd 1 as started; from here on fd 1 is the log (stderr), so
    # that nothing printed by any library can be taken for the ready line.
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    slot = int(argv[0])
    try:
        settings = Settings.model_validate_json(_read_line(0))
    except ValueError as error:
        channel.write(f"error gateway worker {slot} could not read its settings: {error}\n")
        return 1
    configure_logging(settings.log_format, settings.log_level)
    ctx = _context(settings)
    set_node_id(f"{ctx.node_id}/gateway-worker-{slot}")
    try:
        asyncio.run(_serve(settings, ctx, slot, channel))
    except ConfigurationError as error:
        channel.write(f"error {error}\n")
        channel.flush()
        return 1
    finally:
        ctx.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
