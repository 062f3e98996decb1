"""Reading resource files: YAML streams of documents, each one resource with a ``kind``.

Every problem found in a file is reported with where it is: the file, the document's
index in it (1-based, counting empty documents too) and its first line, the resource, and
the field, so a person can go straight to it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from apicron.domain.errors import ApicronError, InvalidInput

# The kinds apply knows, in the order it applies them (apicron.declarative.kinds.KINDS, which
# imports this module; tests/test_apply_checks.py keeps the two equal).
KIND_NAMES = ("App", "Group", "Api", "Grant", "Channel", "Calendar", "Task", "User")


@dataclass(frozen=True)
class Document:
    """One document of a resource file: ``data`` as YAML gave it (a mapping)."""

    source: str
    index: int
    line: int
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    def where(self) -> str:
        name = self.data.get("name")
        what = f", {self.kind} {name!r}" if isinstance(name, str) else f", {self.kind}"
        return f"{self.source}: document {self.index} (line {self.line}){what}"


@dataclass(frozen=True)
class Problem:
    """Something wrong with a document, or with what applying it would do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ResourceFileError(ApicronError):
    """One or more problems in resource files; nothing was changed.

    ``file_problems`` lists each; the message is the first, with how many more there are.
    """

    status = 400
    code = "INVALID_RESOURCE_FILE"

    def __init__(self, problems: Sequence[Problem]):
        found = list(problems)
        more = len(found) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{found[0]}{suffix}")
        self.file_problems = found


def problem_of(document: Document, error: ApicronError) -> Problem:
    """A domain error (field first) as a problem of ``document``."""
    return Problem(document.where(), error.message)


def read_documents(paths: Iterable[str]) -> list[Document]:
    """Every non-empty document of the files (``-`` is standard input), in order.

    Raises ResourceFileError for a file that cannot be read or parsed, or a document that
    is not a mapping with a ``kind``.
    """
    documents: list[Document] = []
    problems: list[Problem] = []
    for path in paths:
        source = "<stdin>" if path == "-" else path
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(Problem(source, f"cannot read the file: {reason}"))
            continue
        try:
            found = _parse(source, text)
        except yaml.YAMLError as exc:
            problems.append(Problem(source, _yaml_message(exc)))
            continue
        for document, problem in found:
            if problem is not None:
                problems.append(problem)
            elif document is not None:
                documents.append(document)
    if problems:
        raise ResourceFileError(problems)
    return documents


def _parse(source: str, text: str) -> list[tuple[Document | None, Problem | None]]:
    lines = _document_lines(text)
    found: list[tuple[Document | None, Problem | None]] = []
    for index, data in enumerate(yaml.safe_load_all(text), start=1):
        line = lines[index - 1] if index - 1 < len(lines) else 1
        where = f"{source}: document {index} (line {line})"
        if data is None:
            found.append((None, None))
        elif not isinstance(data, dict):
            found.append((None, Problem(where, "a document must be a mapping with a 'kind'")))
        elif not isinstance(data.get("kind"), str):
            found.append((None, Problem(where, f"kind: is required ({', '.join(KIND_NAMES)})")))
        else:
            found.append((Document(source, index, line, data), None))
    return found


def _document_lines(text: str) -> list[int]:
    """The 1-based line where each document's content starts (its ``---`` if empty)."""
    lines: list[int] = []
    waiting = False
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.DocumentStartEvent):
            lines.append(line)
            waiting = True
        elif waiting and isinstance(event, yaml.NodeEvent):
            lines[-1] = line
            waiting = False
    return lines


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}"
    return f"not valid YAML: {problem}"


def field_problem(document: Document, field: str, rule: str) -> Problem:
    return problem_of(document, InvalidInput(rule, field=field))
