"""Which tasks a list or a bulk action means: by tags, name prefix and ids (issue 18).

Tags are one JSON object per task; ``tasks.c.tags[key].as_string()`` is ``tags ->> 'key'``
on PostgreSQL and ``JSON_EXTRACT(tags, '$."key"')`` on SQLite, the key bound as a
parameter either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select

from apicron.store.tables import tasks


def _prefix_pattern(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def where_task_matches(
    statement: Select[Any],
    *,
    tags: Mapping[str, str] | None = None,
    name_prefix: str | None = None,
    ids: Sequence[str] | None = None,
) -> Select[Any]:
    """``statement`` (over ``tasks``) narrowed to tasks carrying every tag in ``tags``
    (AND), whose name starts with ``name_prefix`` (case-sensitive, as names are unique so),
    and whose id is one of ``ids`` (an empty list matches nothing); None: no condition."""
    for key, value in (tags or {}).items():
        statement = statement.where(tasks.c.tags[key].as_string() == value)
    if name_prefix:
        statement = statement.where(tasks.c.name.like(_prefix_pattern(name_prefix), escape="\\"))
    if ids is not None:
        statement = statement.where(tasks.c.id.in_(list(ids)))
    return statement
