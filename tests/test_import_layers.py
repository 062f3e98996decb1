"""No import circles in the console and the CLI (issue 19): the modules that register pages
and commands sit above the modules that define them, never beside them. Checked on the
source, imports inside functions included (a deferred import is a circle hidden, not gone)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports by name (``from x import sub`` counts
    as importing ``x.sub`` when that is a module)."""
    root = SRC.joinpath(*package.split("."))
    modules = {module_name(path): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = (found & modules.keys()) - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle as the path from a module back to itself (depth-first)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            found.append([*path[path.index(name):], name])
            return
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    return found


@pytest.mark.parametrize("package", ["apicron.console", "apicron.cli"])
def test_no_import_circle(package: str) -> None:
    assert circles(import_graph(package)) == []
