"""The test process's side of the fork server (``tests/zygote.py``): start it once, ask it for
servers, and wait for them like ``subprocess.Popen`` objects."""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# prctl(2): the test process adopts the servers the zygote forks (they are orphaned on
# purpose), so that it can wait for them and read their exit status.
_PR_SET_CHILD_SUBREAPER = 36


class ForkedProcess:
    """A server forked by the zygote, waited for by this process: the part of
    ``subprocess.Popen``'s interface the tests use (``pid``, ``returncode``, ``poll``,
    ``wait``, ``send_signal``, ``terminate``, ``kill``). ``returncode`` is the exit code, or
    ``-N`` after signal N, as with ``Popen``."""

    def __init__(self, pid: int, argv: list[str]):
        self.pid = pid
        self.args = argv
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.01)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """One ``tests/zygote.py`` process; :meth:`spawn` is safe to call from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.zygote"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert self._process.stdout is not None
        self.ready = self._process.stdout.readline().strip() == "ready"
        atexit.register(self.close)

    def spawn(self, argv: list[str], env: dict[str, str], log: Path) -> ForkedProcess:
        request = {"argv": argv, "env": env, "cwd": os.getcwd(), "log": str(log)}
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        return ForkedProcess(int(answer), ["apicron", *argv])

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


_server: ForkServer | None = None
_refused = False
_start_lock = threading.Lock()


def fork_server() -> ForkServer | None:
    """This process's fork server, started on first use; ``None`` where it cannot be used
    (not Linux, ``APICRON_TEST_FORK_SERVER=0``, or the zygote could not start cleanly), and
    the caller then starts ``python -m apicron`` itself."""
    global _server, _refused
    with _start_lock:
        if _server is not None and _server._process.poll() is None:
            return _server
        if _refused or os.environ.get("APICRON_TEST_FORK_SERVER", "1") == "0":
            return None
        if not sys.platform.startswith("linux"):
            _refused = True
            return None
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            _refused = True
            return None
        server = ForkServer()
        if not server.ready:
            server.close()
            _refused = True
            return None
        _server = server
        return _server
