"""The base install (``pip install apicron``) is the client and the CLI, without the server's
dependencies: built from this tree into a fresh venv, used against a real server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ADMIN_TOKEN, ApicronProcess

ROOT = Path(__file__).resolve().parent.parent
SERVER_MODULES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "aiohttp",
                  "cryptography", "jinja2", "prometheus_client", "psycopg")

RESOURCES = """\
kind: App
name: billing
---
kind: Group
name: orders
app: billing
---
kind: Api
name: sync_orders
group: orders
method: POST
path: /{prefix}/orders/sync
backend_url: http://127.0.0.1:9/sync
---
kind: Task
name: nightly_sync
app: billing
api: orders/sync_orders
trigger_type: CRON
cron_expression: 0 30 2 ? * MON-FRI
started: true
"""


def readme_client_example() -> str:
    """The README's Python client example, as a new user would copy it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python client", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None, "no ```python block under '## Python client'"
    return match.group(1)


def run(*argv: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600,
                          check=False, env=env, cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[ApicronProcess]:
    """One server is enough: what is under test is the install, not the database."""
    process = ApicronProcess(tmp_path / "data").start()
    yield process
    process.stop()


@pytest.mark.slow
def test_the_base_install_is_a_client_and_cli_without_the_server(
    sqlite_server: ApicronProcess, tmp_path: Path
) -> None:
    # A copy of what a source distribution holds, so the build leaves this tree untouched.
    tree = tmp_path / "apicron"
    shutil.copytree(ROOT / "src", tree / "src",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", tree)
    assert installed.returncode == 0, installed.stderr

    present = run(venv / "bin" / "python", "-c",
                  "import importlib.util as u; "
                  f"print([m for m in {SERVER_MODULES!r} if u.find_spec(m)])")
    assert present.stdout.strip() == "[]", present.stdout + present.stderr

    env = {key: value for key, value in os.environ.items() if not key.startswith("APICRON_")}
    env |= {"APICRON_URL": sqlite_server.url, "APICRON_TOKEN": ADMIN_TOKEN,
            "HOME": str(tmp_path)}
    apicron = venv / "bin" / "apicron"
    from apicron import __version__

    assert run(apicron, "--version", env=env).stdout == f"apicron {__version__}\n"
    serve = run(apicron, "serve", env=env)
    assert serve.returncode == 1
    assert "needs the server's dependencies" in serve.stderr
    assert "pip install 'apicron[server]'" in serve.stderr

    (tmp_path / "resources.yaml").write_text(RESOURCES.format(prefix="install-test"))
    applied = run(apicron, "apply", "-f", "resources.yaml", env=env, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[-1] == "applied: 4 created, 0 changed, 0 deleted"
    listed = run(apicron, "task", "list", env=env)
    assert listed.stdout.split()[7:9] == ["nightly_sync", "STARTED"], listed.stdout
    explained = run(apicron, "cron", "explain", "0 0 12 ? * 6#3", "--tz", "Asia/Tokyo", env=env)
    assert "third Friday" in explained.stdout, explained.stderr

    # The README's example, as written, with the client of the fresh venv.
    script = tmp_path / "example.py"
    script.write_text(readme_client_example())
    example = run(venv / "bin" / "python", script, env=env)
    assert example.returncode == 0, example.stderr
    lines = example.stdout.splitlines()
    assert lines[0].startswith("nightly_sync STARTED 20")
    assert lines[1].startswith("TASK_STARTED task 'nightly_sync' is STARTED")
    assert lines[2].endswith(" PENDING")
