"""A task's request with its request variables filled in for one attempt (issue 18).

The placeholders are parsed once per task version (id, ``updated_at``) and kept in a small
bounded cache; a request without any ``{{`` is handed back as stored. The grammar and the
values are :mod:`apicron.domain.request_variables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apicron.domain import request_variables as rv
from apicron.domain.models import StoredTask
from apicron.domain.schedules import schedule_of

_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class FilledRequest:
    """Headers and query as ``(name, value)`` pairs in order, and the body text (or None)."""

    headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    body: str | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    headers: tuple[tuple[str, str, rv.Template | None], ...]
    query: tuple[tuple[str, str, rv.Template | None], ...]
    body: rv.Template | None
    names: frozenset[str]


_compiled: dict[tuple[str, datetime], _Compiled] = {}
_windows: dict[tuple[str, datetime, datetime], datetime] = {}


def _compile(task: StoredTask) -> _Compiled:
    key = (task.id, task.updated_at)
    found = _compiled.get(key)
    if found is not None:
        return found
    request = task.request
    # Not strict: a task saved before request variables existed may hold a literal "{{".
    headers = tuple((h.name, h.value, rv.parse(h.value, "", strict=False))
                    for h in request.headers)
    query = tuple((p.name, p.value, rv.parse(p.value, "", strict=False)) for p in request.query)
    body = None if request.body is None else rv.parse(
        request.body.content, "", content_type=request.body.content_type, strict=False)
    names: frozenset[str] = frozenset().union(
        *(t.names for _, _, t in headers + query if t is not None),
        body.names if body is not None else frozenset(),
    )
    if len(_compiled) >= _CACHE_MAX:
        _compiled.clear()
    found = _compiled[key] = _Compiled(headers, query, body, names)
    return found


def has_placeholders(task: StoredTask) -> bool:
    """Whether the task's request names a request variable (then it differs per attempt)."""
    return bool(_compile(task).names)


def window_start(task: StoredTask, scheduled_at: datetime) -> datetime:
    """The trigger's latest occurrence before ``scheduled_at`` (see
    :func:`apicron.domain.request_variables.previous_occurrence`), cached per task
    version and occurrence."""
    key = (task.id, task.updated_at, scheduled_at)
    found = _windows.get(key)
    if found is None:
        schedule = schedule_of(task)
        found = rv.previous_occurrence(
            schedule.first_at_or_after, schedule.next_after, task.effective_time, scheduled_at
        )
        if len(_windows) >= _CACHE_MAX:
            _windows.clear()
        _windows[key] = found
    return found


def filled_request(
    task: StoredTask, execution_id: str, scheduled_at: datetime, attempt: int
) -> FilledRequest:
    """The task's headers, query and body for this attempt, placeholders replaced.

    Raises what :func:`apicron.domain.schedules.schedule_of` raises when
    ``{{window_start}}`` is used and the trigger no longer evaluates.
    """
    compiled = _compile(task)
    request = task.request
    if not compiled.names:
        return FilledRequest(
            [(h.name, h.value) for h in request.headers],
            [(p.name, p.value) for p in request.query],
            None if request.body is None else request.body.content,
        )
    values = rv.values_for(
        scheduled_at=scheduled_at, execution_id=execution_id, attempt=attempt,
        task_name=task.name, window_start=lambda: window_start(task, scheduled_at),
        names=compiled.names,
    )

    def fill(items: tuple[tuple[str, str, rv.Template | None], ...]) -> list[tuple[str, str]]:
        return [(name, value if t is None else t.render(values)) for name, value, t in items]

    body: str | None = None
    if request.body is not None:
        body = request.body.content if compiled.body is None else compiled.body.render(values)
    return FilledRequest(fill(compiled.headers), fill(compiled.query), body)
