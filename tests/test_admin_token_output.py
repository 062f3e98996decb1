"""A generated admin token is shown once, on a terminal only: under systemd or in a
container stderr is the log, so there apicron names the file that holds it instead."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import ApicronProcess, free_port


def test_the_token_is_not_written_to_a_log_but_its_file_is_named(tmp_path: Path) -> None:
    process = ApicronProcess(tmp_path, {"APICRON_ADMIN_TOKEN": ""}).start()
    process.stop()
    token = (tmp_path / "admin-token").read_text().strip()
    log = process.log()
    assert token not in log
    assert f"generated the admin token into {tmp_path / 'admin-token'}" in log


def test_the_token_is_printed_once_on_a_terminal(tmp_path: Path) -> None:
    env = {
        **os.environ, "APICRON_DATA_DIR": str(tmp_path), "APICRON_ADMIN_TOKEN": "",
        "APICRON_API_PORT": str(free_port()), "APICRON_GATEWAY_PORT": str(free_port()),
    }
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "apicron", "serve"], env=env, stdin=terminal, stdout=terminal,
        stderr=terminal, close_fds=True,
    )
    os.close(terminal)
    shown = b""
    try:
        deadline = time.monotonic() + 60
        while b"listening" not in shown and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    shown += os.read(controller, 65536)
                except OSError:  # the process has closed the terminal
                    break
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        os.close(controller)
    token = (tmp_path / "admin-token").read_text().strip()
    assert token.encode() in shown, shown
    assert shown.count(token.encode()) == 1
