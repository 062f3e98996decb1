"""Request variables: ``{{placeholder}}`` in a task's query values, header values and body.

A fixed set, no template language (issue 18): a placeholder names one fact about the
occurrence being called, nothing can read a secret, a file or the environment.

============================  ==========================================================
``{{scheduled_time}}``        the occurrence's scheduled time, RFC 3339 UTC
                              (``2026-11-30T14:00:00Z``); a manual run's is when it was
                              asked for; a backfill or replay keeps the original one
``{{scheduled_time_unix}}``   the same in whole Unix seconds (``1796047200``)
``{{execution_id}}``          the execution's id (stable across its retries)
``{{attempt}}``               the attempt number, from 1
``{{task_name}}``             the task's name
``{{window_start}}``          the trigger's latest occurrence *before* the scheduled
                              time (RFC 3339 UTC); for the first occurrence (none since
                              the task's effective time) the effective time itself
``{{window_end}}``            the scheduled time (so ``[window_start, window_end)`` is the
                              data window of the occurrence)
============================  ==========================================================

Spaces inside the braces are allowed (``{{ attempt }}``). Every ``{{`` starts a
placeholder: an unknown name or a ``{{`` without its ``}}`` is refused when the task is
saved, naming the field (``request.body.content``, ``request.headers.X-Foo``,
``request.query.from``).

In an ``application/json`` body a placeholder inside a JSON string is replaced by the
JSON-escaped value (``"since": "{{window_start}}"``); outside a string it stands for a
JSON value: a number for ``scheduled_time_unix`` and ``attempt``, a quoted string for the
others (``{"attempt": {{attempt}}}`` → ``{"attempt": 2}``), so the body stays valid JSON.
In an ``application/xml`` body values are XML-escaped; elsewhere they are used as they
are (query values are URL-encoded afterwards like any other).

A task is parsed once per version (:func:`compiled_request`, keyed by id and
``updated_at``); a request without ``{{`` costs nothing per call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape as xml_escape

from apicron.domain.errors import InvalidInput
from apicron.domain.problem_list import Problems
from apicron.domain.rules import NameValue

PLACEHOLDERS: tuple[str, ...] = (
    "scheduled_time", "scheduled_time_unix", "execution_id", "attempt", "task_name",
    "window_start", "window_end",
)
NUMERIC = frozenset({"scheduled_time_unix", "attempt"})
# What a placeholder outside a JSON string is replaced by when a body is checked at save
# time: a value of the same JSON type as the real one, so "parses with these" means
# "parses with any".
_SAMPLE: dict[str, str] = {
    "scheduled_time": "2026-01-01T00:00:00Z", "scheduled_time_unix": "1767225600",
    "execution_id": "0" * 32, "attempt": "1", "task_name": "task",
    "window_start": "2026-01-01T00:00:00Z", "window_end": "2026-01-01T00:00:00Z",
}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_KNOWN = ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)


@dataclass(frozen=True, slots=True)
class Slot:
    """One placeholder in a text: its name and how its value is written there."""

    name: str
    escape: str
    """``raw``, ``json-string`` (inside a JSON string), ``json-value`` (outside one), ``xml``."""


@dataclass(frozen=True, slots=True)
class Template:
    """A text cut into literal parts and :class:`Slot` s, in order."""

    parts: tuple[str | Slot, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parts if isinstance(p, Slot))

    def render(self, values: Mapping[str, str]) -> str:
        """The text with each slot replaced by ``values[name]``, escaped for its place."""
        out: list[str] = []
        for part in self.parts:
            out.append(part if isinstance(part, str) else _escaped(part, values[part.name]))
        return "".join(out)


def _escaped(slot: Slot, value: str) -> str:
    if slot.escape == "json-string":
        return json.dumps(value)[1:-1]
    if slot.escape == "json-value":
        return value if slot.name in NUMERIC else json.dumps(value)
    if slot.escape == "xml":
        return xml_escape(value, {'"': "&quot;", "'": "&apos;"})
    return value


def parse(text: str, field: str, *, content_type: str | None = None,
          strict: bool = True) -> Template | None:
    """``text`` as a :class:`Template`, or None when it has no placeholder.

    ``strict`` (saving): an unknown name or an unclosed ``{{`` raises
    :class:`InvalidInput` naming ``field``. Not strict (firing a task stored before
    request variables existed): such text is kept literally.
    """
    if "{{" not in text:
        return None
    strings = (
        [m.span() for m in _JSON_STRING.finditer(text)]
        if content_type == "application/json" else []
    )
    parts: list[str | Slot] = []
    position = 0
    literal_from = 0
    unknown: list[str] = []
    unclosed: int | None = None
    while (start := text.find("{{", position)) >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            unclosed = start
            break
        name = text[start + 2 : end].strip()
        if name not in PLACEHOLDERS:
            unknown.append(f"{text[start:end + 2]!r:.80}")
            position = start + 2
            continue
        parts.append(text[literal_from:start])
        parts.append(Slot(name, _escape_at(start, content_type, strings)))
        position = literal_from = end + 2
    if strict and (unknown or unclosed is not None):
        # Every mistake of the text in one message, so that one answer is enough to fix it.
        said = []
        if unknown:
            said.append(f"unknown placeholder{'s' if len(unknown) > 1 else ''} "
                        + ", ".join(unknown))
        if unclosed is not None:
            said.append(f"'{{{{' at character {unclosed + 1} is not closed by '}}}}'")
        raise InvalidInput("; ".join(said) + f" (the placeholders are {_KNOWN})", field=field)
    if not any(isinstance(p, Slot) for p in parts):
        return None
    parts.append(text[literal_from:])
    return Template(tuple(p for p in parts if p != ""))


def _escape_at(index: int, content_type: str | None, strings: list[tuple[int, int]]) -> str:
    if content_type == "application/json":
        inside = any(begin < index < end for begin, end in strings)
        return "json-string" if inside else "json-value"
    if content_type == "application/xml":
        return "xml"
    return "raw"


def sample(text: str, field: str, content_type: str) -> str:
    """``text`` with every placeholder replaced by a value of its type (for checking a
    body's syntax at save time); raises :class:`InvalidInput` like :func:`parse`."""
    template = parse(text, field, content_type=content_type)
    return text if template is None else template.render(_SAMPLE)


def check_values(field: str, items: Sequence[NameValue]) -> None:
    """Check the placeholders of each ``{name, value}`` in ``items`` (headers or query);
    the error names ``<field>.<name>`` of every item with a bad placeholder."""
    problems = Problems()
    for item in items:
        with problems.check():
            parse(item.value, f"{field}.{item.name}")
    problems.raise_any()


# --- the values of one attempt ------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def values_for(
    *, scheduled_at: datetime, execution_id: str, attempt: int, task_name: str,
    window_start: Callable[[], datetime], names: frozenset[str],
) -> dict[str, str]:
    """The values of the placeholders in ``names`` for one attempt; ``window_start`` is
    only called when a template uses it (it searches the trigger backwards)."""
    values = {
        "scheduled_time": rfc3339(scheduled_at),
        "scheduled_time_unix": str(int(scheduled_at.timestamp())),
        "execution_id": execution_id,
        "attempt": str(attempt),
        "task_name": task_name,
        "window_end": rfc3339(scheduled_at),
    }
    if "window_start" in names:
        values["window_start"] = rfc3339(window_start())
    return values


def previous_occurrence(
    first_at_or_after: Callable[[datetime], datetime | None],
    next_after: Callable[[datetime], datetime | None],
    effective_time: datetime,
    before: datetime,
) -> datetime:
    """The latest fire time in [``effective_time``, ``before``) of a schedule, or
    ``min(effective_time, before)`` when there is none (the first occurrence's window
    starts when the task took effect). Looks back in a window growing fourfold, so an
    every-second trigger costs about a minute of fire times, a yearly one a few steps."""
    until = before - timedelta(microseconds=1)
    if until < effective_time:
        return min(effective_time, before)
    window = timedelta(seconds=60)
    while True:
        start = max(effective_time, until - window)
        current = first_at_or_after(start)
        latest: datetime | None = None
        while current is not None and current <= until:
            latest = current
            current = next_after(current)
        if latest is not None:
            return latest
        if start == effective_time:
            return effective_time
        window *= 4
