"""A fork server for the suite's ``apicron serve`` processes.

Starting ``python -m apicron serve`` costs 3-5 s of CPU before the first line of apicron runs,
nearly all of it imports (FastAPI builds a model for each of the ~140 routes). The suite
starts a few hundred servers, so on the two cores CI has that was minutes of the run.

The zygote pays the imports once per test process and forks a server from that state for
each :class:`tests.servers.ApicronProcess`. The forked child is a real process of its own:
it gets the test's environment, working directory, argv (``apicron serve --role …``) and log
file, and runs ``python -m apicron``'s own ``__main__``; signals, exit codes, kill -9 and
SIGSTOP behave as for a process the test started itself. It is forked twice so that it is
re-parented to the test process (made a child subreaper), which can then wait for it.

Nothing in the product knows about this. Tests that need a process started from nothing
(packaging, a changed ``PYTHON*`` environment, a ``preexec_fn``) still use ``subprocess``;
``APICRON_TEST_FORK_SERVER=0`` turns the zygote off for a whole run.

Protocol (line-delimited JSON on stdin, one pid per line on stdout):
``{"argv": [...], "env": {...}, "cwd": "...", "log": "..."}`` → ``"<pid>\\n"``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import runpy
import sys
import threading
import traceback
from typing import Any


def _become(request: dict[str, Any]) -> None:
    """In the grandchild: turns into ``python -m apicron <argv>`` and never returns."""
    code = 1
    try:
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = ["apicron", *request["argv"]]
        try:
            runpy.run_module("apicron", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            if done.code is not None and not isinstance(done.code, int):
                print(done.code, file=sys.stderr)
        except BaseException:  # what the interpreter would print on an uncaught exception
            traceback.print_exc()
            code = 1
        # What a normal interpreter exit does that os._exit skips.
        atexit._run_exitfuncs()
        logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # exiting whatever happens
                stream.flush()
        os._exit(code)


def _spawn(request: dict[str, Any]) -> int:
    """Forks the server twice (the middle process exits at once) and returns its pid."""
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(read_end)
            server = os.fork()
            if server == 0:
                os.close(write_end)
                _become(request)
            os.write(write_end, str(server).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    answer = b""
    while chunk := os.read(read_end, 64):
        answer += chunk
    os.close(read_end)
    # Once the middle process has exited, the server belongs to the subreaper (the test).
    os.waitpid(middle, 0)
    return int(answer)


def main() -> None:
    # The imports paid once, for every server forked afterwards.
    import apicron.cli.main
    import apicron.server  # noqa: F401

    if threading.active_count() != 1:
        # Forking a process with threads copies locks held by them; refuse instead.
        sys.stdout.write("threads\n")
        sys.stdout.flush()
        return
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        pid = _spawn(json.loads(line))
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
