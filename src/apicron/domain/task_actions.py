"""Inputs and answers of the actions on tasks issue 18 adds: a note when stopping, a
clone, and start/stop of every task a filter matches (with a dry run)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictStr, model_validator

from apicron.domain.errors import InvalidInput
from apicron.domain.models import Input, Name, Record, Tags
from apicron.domain.validation import reported_to_pydantic
from apicron.domain.vocabulary import TaskStatus

NOTE_MAX = 255
# At most this many tasks one bulk call acts on: a filter matching more is refused (400,
# nothing changed) rather than half done; narrow it, or call again per tag.
BULK_MAX = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_note(field: str, value: str) -> str:
    """A stop note: one line of at most :data:`NOTE_MAX` characters (it is shown in the
    task list), or InvalidInput naming ``field``."""
    if len(value) > NOTE_MAX:
        raise InvalidInput(f"must be at most {NOTE_MAX} characters (got {len(value)})",
                           field=field)
    if _CONTROL.search(value):
        raise InvalidInput("must be one line without control characters", field=field)
    return value


def _note(value: str) -> str:
    with reported_to_pydantic():
        return check_note("note", value)


Note = Annotated[
    StrictStr, AfterValidator(_note),
    Field(max_length=NOTE_MAX, description="Why the task is stopped, shown in the task list "
          "and page until it is started again.",
          examples=["paused: backend migration until Friday"]),
]


class TaskStop(Input):
    """``POST /v1/tasks/{id}/stop`` body (optional)."""

    note: Note | None = None


class TaskClone(Input):
    """``POST /v1/tasks/{id}/clone`` body: the new task's name (the rest is copied)."""

    name: Name


class TaskFilter(Input):
    """Which tasks a bulk action means: every condition given must hold (AND)."""

    tags: Tags | None = None
    status: TaskStatus | None = None
    name_prefix: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None
    ids: Annotated[list[StrictStr], Field(max_length=BULK_MAX)] | None = None

    @model_validator(mode="after")
    def _something(self) -> TaskFilter:
        if not self.tags and self.status is None and not self.name_prefix and not self.ids:
            # A bulk stop of every task must be asked for by name, never by forgetting one.
            raise ValueError("give at least one of tags, status, name_prefix or ids")
        return self


class BulkAction(Input):
    """``POST /v1/tasks/bulk/start|stop`` body."""

    filter: TaskFilter
    dry_run: StrictBool = False
    note: Note | None = None


BulkOutcome = Literal["CHANGED", "UNCHANGED", "WOULD_CHANGE", "FAILED"]


class BulkItem(Record):
    """What the action did (or, in a dry run, would do) to one task."""

    id: str
    name: str
    status_before: TaskStatus
    status: TaskStatus
    outcome: BulkOutcome
    error_code: str | None = None
    error_msg: str | None = None


class BulkResult(Record):
    """Every task the filter matched, with what happened to each; ``failed`` > 0 means
    some were not changed (each says why), the others were."""

    action: Literal["start", "stop"]
    dry_run: bool
    total: int
    changed: int
    failed: int
    items: list[BulkItem]
