"""Rotating APICRON_SECRET_KEY to the end: a new key first, the old one kept, then
``apicron secret-key rotate`` re-encrypts every stored credential under the new key so the
old one can be retired. Retired too early, an app's secret that cannot be decrypted is named
at start, answered with a clean gateway error and fails that app's executions with CONFIG,
while everything else goes on. Real ``apicron serve`` processes and the real CLI, SQLite and
PostgreSQL, a real backend on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import World, new_database
from tests.reliability_helpers import wait_for
from tests.servers import ApicronProcess, free_port
from tests.test_gateway import Backend, gateway, hw

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apicron", *args], env={**os.environ, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


class Instance:
    """One instance (data directory and database) started under various keys."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        self.data_dir = data_dir
        self.env = env

    def start(self, keys: str) -> ApicronProcess:
        log = self.data_dir / "server.log"
        self.mark = len(log.read_text()) if log.exists() else 0
        return ApicronProcess(self.data_dir, {**self.env, "APICRON_SECRET_KEY": keys}).start()

    def log_since_start(self, process: ApicronProcess) -> str:
        return process.log()[self.mark:]

    def rotate(self, keys: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "APICRON_SECRET_KEY": keys, "APICRON_DATA_DIR": str(self.data_dir)}
        return run_cli("secret-key", "rotate", env=env)


def executions(client: httpx.Client, task: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(
        f"/v1/tasks/{task['id']}/executions", params={"limit": 500}
    ).json()["items"]
    return items


def test_a_key_is_retired_only_after_rotate_and_too_early_fails_cleanly(
    request: pytest.FixtureRequest, database: str, tmp_path: Path, backend: Backend
) -> None:
    instance = Instance(tmp_path / "data", new_database(request, database))
    old_only = instance.start(OLD)
    with old_only.client() as client:
        world = World(client)
        early, api = world.setup(method="POST", backend_url=backend.url(backend.path()))
        early_task = world.task(early, api, cron_expression="* * * * * ?")
    old_only.stop()

    # 1. The new key first, the old one kept: both apps work.
    both = instance.start(f"{NEW},{OLD}")
    try:
        with both.client() as client, gateway(both) as gw:
            world = World(client)
            late, late_api = world.setup(method="POST", backend_url=backend.url(backend.path()))
            late_task = world.task(late, late_api, cron_expression="* * * * * ?")
            assert gw.post(api["path"], headers=hw(early)).status_code == 200
            assert gw.post(late_api["path"], headers=hw(late)).status_code == 200
    finally:
        both.stop()

    # 2. The old key retired before rotating: the one app under it is named at start, its
    #    calls fail cleanly, the other app carries on.
    new_only = instance.start(NEW)
    try:
        with new_only.client() as client, gateway(new_only) as gw:
            log = instance.log_since_start(new_only)
            lines = [line for line in log.splitlines() if "cannot be decrypted" in line]
            assert len(lines) == 1, lines
            assert early["name"] in lines[0] and late["name"] not in lines[0]
            assert "secret-key rotate" in lines[0]

            r = gw.post(api["path"], headers=hw(early))
            assert r.status_code == 500, r.text
            assert r.json()["error_code"] == "CREDENTIAL_UNREADABLE"
            assert early["secret"] not in r.text
            assert gw.post(late_api["path"], headers=hw(late)).status_code == 200

            for task in (early_task, late_task):
                assert client.post(f"/v1/tasks/{task['id']}/start").status_code == 200

            def early_failed() -> bool:
                found = executions(client, early_task)
                return any(e["status"] == "FAILED" for e in found)

            wait_for(early_failed, 30, "an execution of the early app's task to fail")
            wait_for(lambda: any(e["status"] == "SUCCEEDED"
                                 for e in executions(client, late_task)), 30, "late task")
            for task in (early_task, late_task):
                assert client.post(f"/v1/tasks/{task['id']}/stop").status_code == 200
            failed = [e for e in executions(client, early_task) if e["status"] == "FAILED"]
            detail = client.get(f"/v1/executions/{failed[0]['id']}").json()
            attempt = detail["attempts"][0]
            assert attempt["error_kind"] == "CONFIG"
            assert "cannot be decrypted" in attempt["error_msg"]
            assert "APICRON_SECRET_KEY" in attempt["error_msg"]
            assert len(detail["attempts"]) == 1  # not retried: a key does not come back
            wait_for(lambda: not [e for e in executions(client, early_task)
                                  if e["status"] in ("RUNNING", "PENDING")], 30, "no RUNNING")
        assert "Traceback" not in new_only.log()
    finally:
        new_only.stop()

    # 3. Rotating needs every key still able to read: refused, nothing changed.
    refused = instance.rotate(NEW)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1].startswith("apicron: error: ")
    assert early["name"] in refused.stderr and "Traceback" not in refused.stderr

    # 4. With both keys, rotate; then the old key can go.
    rotated = instance.rotate(f"{NEW},{OLD}")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 2 stored credentials" in rotated.stdout
    again = instance.rotate(f"{NEW},{OLD}")
    assert again.returncode == 0 and "re-encrypted 2" in again.stdout  # idempotent
    retired = instance.start(NEW)
    try:
        with gateway(retired) as gw:
            assert "cannot be decrypted" not in instance.log_since_start(retired)
            assert gw.post(api["path"], headers=hw(early)).status_code == 200
            assert gw.post(late_api["path"], headers=hw(late)).status_code == 200
    finally:
        retired.stop()
    # Another key altogether: nothing can be read, so the node refuses to start.
    other = run_cli("serve", env={**instance.env, "APICRON_DATA_DIR": str(instance.data_dir),
                                  "APICRON_SECRET_KEY": OLD, "APICRON_API_PORT": str(free_port()),
                                  "APICRON_GATEWAY_PORT": str(free_port())})
    assert other.returncode != 0
    assert other.stderr.strip().splitlines()[-1].startswith(
        "apicron: error: a stored secret cannot be decrypted with APICRON_SECRET_KEY")


def test_secret_key_alone_still_prints_a_new_key() -> None:
    result = run_cli("secret-key", env={})
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    Fernet(key.encode())  # a valid Fernet key
