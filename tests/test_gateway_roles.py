"""``apicron serve --role``: the gateway alone, the management API alone, one database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import World
from tests.servers import ADMIN_TOKEN, free_port
from tests.test_gateway import Backend


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Serve:
    def __init__(self, data_dir: Path, role: str, api_port: int, gateway_port: int):
        env = {
            **os.environ,
            "APICRON_DATA_DIR": str(data_dir),
            "APICRON_API_PORT": str(api_port),
            "APICRON_GATEWAY_PORT": str(gateway_port),
            "APICRON_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        self.log_path = data_dir.parent / f"{role}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "apicron", "serve", "--role", role],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def wait_for(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, self.log_path.read_text()
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)


def test_the_gateway_and_the_management_api_run_as_separate_processes(
    tmp_path: Path, backend: Backend
) -> None:
    data_dir = tmp_path / "data"
    ports = {name: free_port() for name in ("api", "gateway", "api2", "gateway2")}
    api = Serve(data_dir, "api", ports["api"], ports["gateway"])
    try:
        api.wait_for(ports["api"])
        with httpx.Client(base_url=f"http://127.0.0.1:{ports['api']}", timeout=30,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
            world = World(client)
            app, published = world.setup(method="GET", backend_url=backend.url("/split"))
        assert not listening(ports["gateway"])  # --role api runs no gateway

        gateway = Serve(data_dir, "gateway", ports["api2"], ports["gateway2"])
        try:
            gateway.wait_for(ports["gateway2"])
            r = httpx.get(
                f"http://127.0.0.1:{ports['gateway2']}{published['path']}",
                headers={"X-HW-ID": app["key"], "X-HW-AppKey": app["secret"]},
            )
            assert r.status_code == 200, r.text
            assert not listening(ports["api2"])  # --role gateway runs no management API
        finally:
            assert gateway.stop() == 0, gateway.log_path.read_text()
    finally:
        assert api.stop() == 0, api.log_path.read_text()
    assert "role gateway" in gateway.log_path.read_text()


def test_a_gateway_port_in_use_fails_at_start_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = Serve(tmp_path / "data", "all", free_port(), port)
        assert serve.process.wait(30) != 0
    log = serve.log_path.read_text()
    assert f"the gateway cannot listen on 127.0.0.1:{port}" in log
    assert "Traceback" not in log
