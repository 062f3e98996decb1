"""Closed sets of values (states, roles, kinds, policies) are declared once, in
:mod:`apicron.domain.vocabulary` (issue 19): nothing else spells a whole set again, the
OpenAPI document offers exactly those values, and mypy refuses a misspelled one."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from apicron.domain import vocabulary
from apicron.domain.vocabulary import choices

SRC = Path(vocabulary.__file__).parents[1]
ORDERED = {
    name: choices(value)
    for name, value in vars(vocabulary).items()
    if name[:1].isupper() and not name.isupper() and hasattr(value, "__args__")
}
SETS = {name: frozenset(values) for name, values in ORDERED.items()}


def _spelled_sets(path: Path) -> list[str]:
    """Each literal tuple/list/set of strings that is one of the sets, whole."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Tuple | ast.List | ast.Set):
            continue
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(values) < 2 or len(values) != len(node.elts):
            continue
        if not all(isinstance(v, str) for v in values):
            continue
        for name, members in SETS.items():
            # A whole set is a list of choices spelled again (a subset is a rule's own
            # choice: the methods that carry a body, the error kinds worth a retry; the
            # same names in another order are another fact: Quartz numbers days from SUN).
            same = (set(values) == members if isinstance(node, ast.Set)
                    else tuple(values) == ORDERED[name])
            if same:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} spells {name}: {values}")
    return found


def test_no_module_spells_a_closed_set_again() -> None:
    assert len(SETS) >= 15, sorted(SETS)
    spelled = [
        line
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "vocabulary.py" and "migrations" not in path.parts
        for line in _spelled_sets(path)
    ]
    assert spelled == [], "derive these with vocabulary.choices():\n" + "\n".join(spelled)


@pytest.mark.parametrize(("record", "field", "literal"), [
    ("apicron.domain.models:Task", "status", "TaskStatus"),
    ("apicron.domain.models:Task", "trigger_type", "TriggerType"),
    ("apicron.domain.models:Task", "overlap_policy", "OverlapPolicy"),
    ("apicron.domain.models:Execution", "status", "ExecutionStatus"),
    ("apicron.domain.accounts:User", "role", "Role"),
    ("apicron.domain.alerting:Channel", "kind", "ChannelKind"),
    ("apicron.domain.alerting:AlertEvent", "event", "AlertEventKind"),
])
def test_the_schema_offers_exactly_the_declared_values(
    record: str, field: str, literal: str
) -> None:
    """The records' JSON Schema (what /openapi.json is built from) lists the set's values."""
    module, name = record.split(":")
    schema = getattr(importlib.import_module(module), name).model_json_schema()
    spec = schema["properties"][field]
    offered = spec.get("enum") or next(s["enum"] for s in spec.get("anyOf", []) if "enum" in s)
    assert tuple(offered) == choices(getattr(vocabulary, literal))


def test_mypy_refuses_a_misspelled_state(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from apicron.domain.models import Task\n"
        "def running(task: Task) -> bool:\n"
        "    return task.status == 'STARTD'\n"
    )
    done = subprocess.run(
        # From the repository, so that the cache of the suite's own mypy run is used.
        [sys.executable, "-m", "mypy", "--strict", str(probe)],
        capture_output=True, text=True, check=False, cwd=SRC.parents[1],
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Non-overlapping equality check" in done.stdout, done.stdout
