"""What pyproject.toml promises: one version, the license, and dependencies that match the
imports — the client side (client, CLI, apply, domain, triggers, signing) needs only the
base install, everything else at most the ``server`` extra."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import apicron

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


def third_party_imports(path: Path) -> set[str]:
    """Top-level modules a file imports, except inside ``with server_side(...)`` (the CLI's
    server commands, which say to install the server extra when it is missing)."""
    tree = ast.parse(path.read_text())
    guarded: set[int] = set()
    for node in ast.walk(tree):
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
    needed = distributions(set().union(*(third_party_imports(p) for p in SOURCE.rglob("*.py"))))
    assert needed <= allowed, f"imported by apicron, not installed by [server]: {needed - allowed}"


def test_the_extras_build_on_each_other() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "apicron[server,postgres]" in extras["test"] and "apicron[test]" in extras["dev"]
    assert declared(extras["postgres"]) == {"psycopg"}
