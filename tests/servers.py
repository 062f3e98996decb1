"""Real apicron processes and real backends on loopback, for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from tests.forked import ForkedProcess, fork_server

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
# Every process of an instance on PostgreSQL shares one key (APICRON_SECRET_KEY).
SECRET_KEY = "0eZ7ySDpF3aK0o6r4kB3Y7Q2lTqO8sT1vN5xW9cZ2aE="


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _same_interpreter(env: dict[str, str]) -> bool:
    """Whether ``env`` starts Python as this process was started (``PYTHON*`` variables
    equal), so that a server forked from the zygote is the one ``python -m apicron`` gives."""
    def python(e: Mapping[str, str]) -> dict[str, str]:
        return {k: v for k, v in e.items() if k.startswith("PYTHON")}

    return python(env) == python(os.environ)


class ApicronProcess:
    """``apicron serve`` in a child process with its own data directory and ports."""

    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str] | None = None,
        role: str = "all",
        preexec: Callable[[], None] | None = None,
    ):
        self.data_dir = data_dir
        self.preexec = preexec
        self.role = role
        self.api_port = free_port()
        self.gateway_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.log_path = data_dir / "server.log"
        self.env = {
            **os.environ,
            "APICRON_DATA_DIR": str(data_dir),
            "APICRON_API_PORT": str(self.api_port),
            "APICRON_GATEWAY_PORT": str(self.gateway_port),
            "APICRON_ADMIN_TOKEN": ADMIN_TOKEN,
            # The suite sends wrong tokens on purpose from one address (127.0.0.1) to
            # servers it shares between tests: the sign-in lock-out would refuse the tests
            # after them. tests/test_access_throttling.py sets the real limits.
            "APICRON_LOGIN_MAX_FAILURES": "1000000",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None

    def start(self, timeout: float = 90) -> ApicronProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logged_before = self.log_path.stat().st_size if self.log_path.exists() else 0
        argv = ["serve", "--role", self.role]
        zygote = fork_server() if self.preexec is None and _same_interpreter(self.env) else None
        if zygote is not None:
            self.process = zygote.spawn(argv, self.env, self.log_path)
        else:
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "apicron", *argv],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=self.preexec,
                )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"apicron exited at start:\n{self.log()}")
            if self.role in ("all", "api"):
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            elif f"listening (role {self.role})".encode() in (
                self.log_path.read_bytes()[logged_before:]
            ):
                return self
            time.sleep(0.05)
        # Not left running (nor unreaped: a ResourceWarning would hide this message).
        self.process.kill()
        self.process.wait()
        raise RuntimeError(f"apicron did not become healthy in {timeout:g} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, token: str | None = ADMIN_TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
