"""The rows and changes that cross the store boundary are TypedDicts kept in step with the
schema (issue 19: typed records instead of dicts): each one's keys are its table's columns,
and mypy refuses a misspelt column, a missing one or a value outside its closed set at a
store call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, is_typeddict

import pytest
from sqlalchemy import Table

from apicron.domain.models import TaskFields
from apicron.store import rows, tables

REPOSITORY = Path(rows.__file__).parents[3]

# Insert rows: the keys are exactly the table's columns, not "the columns minus those with
# a server default". Server defaults exist for rows that predate a migration (0009 gave
# old tasks after_completion KEEP…); a row apicron inserts states every value itself, so
# a new column is a decision at every insert. A key may be NotRequired (the insert leaves
# it out) only where the database fills the column: it is nullable or has a server default.
ROWS: dict[str, Table] = {
    "AppRow": tables.apps,
    "GroupRow": tables.api_groups,
    "ApiRow": tables.apis,
    "GrantRow": tables.app_auths,
    "TaskRow": tables.tasks,
    "ChannelRow": tables.channels,
    "CalendarRow": tables.calendars,
    "UserRow": tables.users,
    "TokenRow": tables.api_tokens,
    "SessionRow": tables.console_sessions,
    "NodeRow": tables.nodes,
}
# Changes: some of the table's columns (an update sets what it is given).
CHANGES: dict[str, Table] = {
    "InstanceChanges": tables.instance,
    "AppChanges": tables.apps,
    "GroupChanges": tables.api_groups,
    "ApiChanges": tables.apis,
    "TaskChanges": tables.tasks,
    "TaskSpecColumns": tables.tasks,
    "TaskLifecycle": tables.tasks,
    "ChannelChanges": tables.channels,
    "CalendarChanges": tables.calendars,
    "UserChanges": tables.users,
    "SessionChanges": tables.console_sessions,
}


def _keys(typed: Any) -> set[str]:
    return set(typed.__required_keys__ | typed.__optional_keys__)


def test_every_typed_dict_of_the_module_is_checked_against_its_table() -> None:
    declared = {name for name, value in vars(rows).items() if is_typeddict(value)}
    assert declared == set(ROWS) | set(CHANGES)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_row_has_exactly_its_tables_columns(name: str) -> None:
    typed, table = getattr(rows, name), ROWS[name]
    columns = {c.name for c in table.columns}
    assert _keys(typed) == columns, (
        f"{name} lacks {sorted(columns - _keys(typed))}, "
        f"has unknown {sorted(_keys(typed) - columns)}"
    )


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_row_leaves_out_only_what_the_database_fills(name: str) -> None:
    typed, table = getattr(rows, name), ROWS[name]
    unfilled = {c.name for c in table.columns if not c.nullable and c.server_default is None}
    assert unfilled <= set(typed.__required_keys__)
    for key in typed.__optional_keys__:
        column = table.c[key]
        assert column.nullable or column.server_default is not None, key


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_changes_name_only_columns_of_their_table(name: str) -> None:
    typed, table = getattr(rows, name), CHANGES[name]
    assert _keys(typed) <= {c.name for c in table.columns}


def test_a_tasks_spec_columns_are_the_fields_of_its_spec() -> None:
    # services.tasks writes every TaskFields field into its column: a new field is stored.
    assert _keys(rows.TaskSpecColumns) == set(TaskFields.model_fields)


def test_mypy_refuses_a_misspelt_missing_or_unknown_value_at_a_store_call(
    tmp_path: Path,
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from datetime import UTC, datetime\n"
        "from apicron.store.store import Queries\n"
        "def change(q: Queries) -> None:\n"
        "    now = datetime.now(UTC)\n"
        "    q.update_task('t', {'updated_on': now})\n"
        "    q.update_task('t', {'status': 'STARTD', 'updated_at': now})\n"
        "    q.insert_grant({'id': 'g', 'app_id': 'a', 'api_id': 'b'})\n"
    )
    done = subprocess.run(
        # From the repository, so that the cache of the suite's own mypy run is used.
        [sys.executable, "-m", "mypy", "--strict", str(probe)],
        capture_output=True, text=True, check=False, cwd=REPOSITORY,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'Extra key "updated_on" for TypedDict "TaskChanges"' in done.stdout, done.stdout
    assert """expression has type "Literal['STARTD']", TypedDict item "status" """ in (
        done.stdout), done.stdout
    assert 'Missing key "created_at" for TypedDict "GrantRow"' in done.stdout, done.stdout
