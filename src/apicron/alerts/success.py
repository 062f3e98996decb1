"""A task's success conditions, compiled and evaluated (issue 14).

The JMESPath expression (library ``jmespath``, the reference implementation of the JMESPath
specification) is evaluated on the JSON body; the regular expression runs on RE2
(``google-re2``), whose matching time is linear in the body whatever the pattern (no
catastrophic backtracking), within a bounded memory budget. Both read at most the first
:data:`~apicron.domain.alerting.ASSERTION_BODY_MAX` bytes (1 MiB) of the body.

:func:`check_success` is the validation the services run when a task is saved (a bad
expression is a 400 naming ``success.jmespath`` or ``success.body_regex``);
:func:`assertion_failure` is what the engine asks of every accepted answer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

import jmespath
import jmespath.exceptions
import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from apicron.domain.alert_rules import ASSERTION_BODY_MAX, SuccessConditions
from apicron.domain.errors import InvalidInput

# What an assertion failure shows of what it found (after redaction).
FOUND_BYTES = 200
# RE2's memory budget for one compiled pattern: past it the pattern is refused at save.
REGEX_MAX_MEMORY = 8 * 1024 * 1024


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # said in the 400 answer; RE2 would also print it to stderr
    options.max_mem = REGEX_MAX_MEMORY
    return options


@functools.lru_cache(maxsize=1024)
def compiled_jmespath(expression: str) -> Any:
    """The compiled expression; raises InvalidInput naming ``success.jmespath``."""
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "invalid"
        raise InvalidInput(f"is not a valid JMESPath expression ({first})",
                           field="success.jmespath") from None


@functools.lru_cache(maxsize=1024)
def compiled_regex(pattern: str) -> Any:
    """The compiled pattern; raises InvalidInput naming ``success.body_regex``."""
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidInput(
            f"is not a regular expression RE2 accepts ({reason}); RE2 has no look-around or "
            "back-references, which is what keeps matching linear in time",
            field="success.body_regex",
        ) from None


def check_success(conditions: SuccessConditions | None) -> None:
    """Raise InvalidInput (naming the field) if an expression does not compile."""
    if conditions is None:
        return
    problems: list[InvalidInput] = []
    for compile_, text in ((compiled_jmespath, conditions.jmespath),
                           (compiled_regex, conditions.body_regex)):
        if text is not None:
            try:
                compile_(text)
            except InvalidInput as error:
                problems.append(error)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        first, *rest = problems
        raise InvalidInput(first.rule, field=first.field,
                           more=[p for e in rest for p in e.problems])


def _shown(value: Any, credentials: Iterable[str]) -> str:
    """``value`` as JSON text, every credential replaced by ``[REDACTED]`` (before the cut,
    so one straddling it leaves nothing of itself), cut to :data:`FOUND_BYTES`."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    for secret in sorted({c for c in credentials if c}, key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    data = text.encode()
    if len(data) <= FOUND_BYTES:
        return text
    return data[:FOUND_BYTES].decode("utf-8", "ignore") + "…"


def same_json(found: Any, expected: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``, containers compared item by
    item (Python's ``==`` would call ``True == 1``)."""
    if isinstance(found, bool) or isinstance(expected, bool):
        return type(found) is type(expected) and found == expected
    if isinstance(found, list) and isinstance(expected, list):
        return len(found) == len(expected) and all(
            same_json(a, b) for a, b in zip(found, expected, strict=True))
    if isinstance(found, dict) and isinstance(expected, dict):
        return found.keys() == expected.keys() and all(
            same_json(found[k], expected[k]) for k in found)
    return bool(found == expected)


def assertion_failure(
    conditions: SuccessConditions, body: bytes, truncated: bool, credentials: Iterable[str]
) -> str | None:
    """Why the body fails the conditions' assertions (``None``: they hold). The message
    names the condition and shows what was found, redacted like response excerpts.

    ``truncated``: the body was longer than the 1 MiB the assertions read.
    """
    credentials = tuple(credentials)
    if conditions.jmespath is not None:
        expression = conditions.jmespath
        if truncated:
            return (f"success.jmespath: the body is larger than the {ASSERTION_BODY_MAX} bytes "
                    "assertions read, so its JSON cannot be evaluated")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return (f"success.jmespath: the body is not JSON, so {expression!r} cannot be "
                    f"evaluated (body: {_shown(body.decode('utf-8', 'replace'), credentials)})")
        try:
            found = compiled_jmespath(expression).search(document)
        except jmespath.exceptions.JMESPathError as error:
            return f"success.jmespath: {expression!r} failed on this body ({error})"
        if conditions.equals is not None:
            if not same_json(found, conditions.equals):
                return (f"success.jmespath: {expression!r} is {_shown(found, credentials)}, "
                        f"expected {_shown(conditions.equals, credentials)}")
        elif not _truthy(found):
            return (f"success.jmespath: {expression!r} is {_shown(found, credentials)}, not a "
                    "true value")
    if conditions.body_regex is not None:
        text = body.decode("utf-8", "replace")
        if compiled_regex(conditions.body_regex).search(text) is None:
            where = f"the first {ASSERTION_BODY_MAX} bytes of the body" if truncated else "the body"
            return (f"success.body_regex: {conditions.body_regex!r} does not match {where} "
                    f"(body: {_shown(text, credentials)})")
    return None


def _truthy(value: Any) -> bool:
    """JMESPath's truth (the specification's "False values"): false, null, "" and empty
    lists and objects are false; every number, 0 included, is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True
