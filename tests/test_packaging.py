"""What pyproject.toml promises: one version, the license, and dependencies that match the
imports — the client side (client, CLI, apply, domain, triggers, signing) needs only the
base install, everything else at most the ``server`` extra."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import apicron
from tests.servers import SECRET_KEY, ApicronProcess

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "apicron"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]

# What the base install serves: `apicron.client`, the CLI and what they import.
CLIENT_SIDE = ("__init__.py", "__main__.py", "client", "cli", "declarative", "domain",
               "triggers", "signing.py")
# Distributions a declared one brings and whose modules apicron imports directly.
BROUGHT_BY = {"starlette": "fastapi", "pydantic-core": "pydantic", "yarl": "aiohttp",
              "multidict": "aiohttp"}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    names = {normalised(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requirements}
    return {name for name in names if name != "apicron"}


def third_party_imports(path: Path, *, lazy: bool = True) -> set[str]:
    """Top-level modules a file imports, except inside ``with server_side(...)`` (the CLI's
    server commands, which say to install the server extra when it is missing); without
    ``lazy``, also except inside functions (imported only when that code runs)."""
    tree = ast.parse(path.read_text())
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if not lazy and (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            or (isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
        ):
            guarded |= {id(inner) for inner in ast.walk(node) if inner is not node}
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", "") == "server_side"
            for item in node.items
        ):
            guarded |= {id(inner) for inner in ast.walk(node)}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return {m for m in modules if m != "apicron" and m not in sys.stdlib_module_names
            and m != "__future__"}


def distributions(modules: set[str]) -> set[str]:
    found = importlib.metadata.packages_distributions()
    names: set[str] = set()
    for module in modules:
        for distribution in found.get(module, [module]):
            name = normalised(distribution)
            names.add(BROUGHT_BY.get(name, name))
    return names


def test_the_version_is_defined_once() -> None:
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "apicron.__version__"
    }
    assert importlib.metadata.version("apicron") == apicron.__version__


def test_the_license_file_is_the_declared_license() -> None:
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_the_client_side_needs_only_the_base_install() -> None:
    base = declared(PROJECT["dependencies"])
    files = [p for name in CLIENT_SIDE for p in
             ((SOURCE / name).rglob("*.py") if (SOURCE / name).is_dir() else [SOURCE / name])]
    needed = distributions(set().union(*(third_party_imports(p) for p in files)))
    assert needed <= base, f"imported by the client side, not in the base install: {needed - base}"
    server = declared(PROJECT["optional-dependencies"]["server"])
    assert not base & server


def test_the_server_needs_only_the_server_extra() -> None:
    allowed = declared(PROJECT["dependencies"]) | declared(
        PROJECT["optional-dependencies"]["server"])
    files = list(SOURCE.rglob("*.py"))
    at_import = distributions(set().union(*(third_party_imports(p, lazy=False) for p in files)))
    assert at_import <= allowed, (
        f"imported by apicron, not installed by [server]: {at_import - allowed}")
    # PostgreSQL's driver is the [postgres] extra, imported only by code that runs on it.
    needed = distributions(set().union(*(third_party_imports(p) for p in files)))
    postgres = declared(PROJECT["optional-dependencies"]["postgres"])
    assert needed <= allowed | postgres, (
        f"imported by apicron, in no extra: {needed - allowed - postgres}")
    assert not postgres & allowed, "psycopg belongs to [postgres] only: SQLite needs none"


def test_the_extras_build_on_each_other() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "apicron[server,postgres]" in extras["test"] and "apicron[test]" in extras["dev"]
    assert declared(extras["postgres"]) == {"psycopg"}


@pytest.fixture
def without_psycopg(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import psycopg`` fails as if it were not installed."""
    blocker = tmp_path / "blocker" / "psycopg"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n")
    return {"PYTHONPATH": str(blocker.parent)}


def test_sqlite_serves_without_psycopg(tmp_path: Path, without_psycopg: dict[str, str]) -> None:
    process = ApicronProcess(tmp_path / "data", without_psycopg).start()
    try:
        with process.client() as client:
            assert client.get("/v1/instance").status_code == 200
    finally:
        process.stop()


def test_a_postgresql_url_without_psycopg_says_what_to_install(
    tmp_path: Path, without_psycopg: dict[str, str]
) -> None:
    env = {**os.environ, **without_psycopg, "APICRON_DATA_DIR": str(tmp_path),
           "APICRON_DATABASE_URL": "postgresql://apicron@127.0.0.1:1/apicron",
           "APICRON_SECRET_KEY": SECRET_KEY}
    result = subprocess.run([sys.executable, "-m", "apicron", "serve"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "apicron: error: APICRON_DATABASE_URL is a PostgreSQL URL but its driver, psycopg, is "
        "not installed: pip install 'apicron[server,postgres]'"
    ]


def test_every_file_the_package_reads_is_in_the_package_data() -> None:
    """A file next to the code that no package-data pattern names is left out of the wheel:
    the installed console then answered 500 for /favicon.ico (favicon.svg was missing; the
    editable install the suite uses reads the source tree, so nothing else noticed)."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["apicron"]
    package = ROOT / "src" / "apicron"
    left_out = sorted(
        str(path.relative_to(package)) for path in package.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts
        and not any(path.relative_to(package).match(pattern) for pattern in patterns)
    )
    assert left_out == [], f"add them to [tool.setuptools.package-data]: {left_out}"
