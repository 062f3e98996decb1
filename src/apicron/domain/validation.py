"""pydantic's validation errors as apicron's InvalidInput: every problem, in apicron's words.

A request with several mistakes hears of all of them at once (``InvalidInput.problems``,
the first one also as ``field``), each named by its field and said as a rule with an
example where one helps, never in pydantic's own wording ("Input should be …").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from apicron.domain.errors import InvalidInput, Problem

M = TypeVar("M", bound=BaseModel)

_LOCATION_PREFIXES = ("body", "query", "path", "header")
# The error type of a rule of ours raised inside a validator (see ``reported_to_pydantic``).
_OUR_RULE = "apicron_rule"

DATETIME_RULE = (
    "must be an RFC 3339 date-time such as 2026-01-01T09:00:00Z (UTC) or "
    "2026-01-01T10:00:00+01:00"
)
_OFFSET_RULE = "must carry a UTC offset, e.g. 2026-01-01T09:00:00Z or 2026-01-01T10:00:00+01:00"
_OBJECT_RULE = "must be a JSON object ({...})"

# pydantic's error types, in apicron's words; ``{…}`` names come from the error's context.
_RULES: Mapping[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list ([...])",
    "dict_type": _OBJECT_RULE,
    "model_type": _OBJECT_RULE,
    "model_attributes_type": _OBJECT_RULE,
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} items",
    "string_too_short": "must be at least {min_length} characters long",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": "must match the pattern {pattern}",
    "datetime_type": DATETIME_RULE,
    "datetime_parsing": DATETIME_RULE,
    "datetime_from_date_parsing": DATETIME_RULE,
    "datetime_object_invalid": DATETIME_RULE,
    "timezone_aware": _OFFSET_RULE,
    "json_invalid": "is not valid JSON",
    "recursion_loop": "is nested too deeply",
}
# Where the value a client sent helps them see the mistake (never for free text fields).
_SHOW_INPUT = frozenset({"literal_error", "enum", "datetime_parsing", "datetime_from_date_parsing",
                         "int_parsing", "bool_parsing"})


def field_path(location: Sequence[int | str]) -> str:
    """``("body", "request", "headers", 0)`` → ``request.headers[0]``; ``body`` when empty."""
    parts = list(location)
    if parts and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def _rule(error: Mapping[str, Any], field: str) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("msg", "is invalid"))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        return message
    if kind == "missing" and field == "body":
        return "is required: send a JSON object with Content-Type: application/json"
    template = _RULES.get(kind)
    if template is None:
        # A kind apicron has not worded yet: still name the field, in pydantic's words.
        return f"is not valid ({error.get('msg', kind)})"
    try:
        rule = template.format(**context)
    except (KeyError, IndexError):
        rule = template
    value = error.get("input")
    if kind in _SHOW_INPUT and isinstance(value, str | int | float | bool):
        rule += f" (got {value!r:.60})"
    return rule


def problems_of(errors: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Every error pydantic found, as apicron problems, in the order pydantic found them."""
    found: list[Problem] = []
    for error in errors:
        if error.get("type") == _OUR_RULE:
            context = error.get("ctx") or {}
            field = str(context.get("field") or field_path(error.get("loc", ())))
            problems = [Problem(field, str(context.get("rule", "is invalid")))]
            # The other problems of the same rule (a list checked past its first bad item).
            problems += [Problem(str(f), str(r)) for f, r in context.get("more") or ()]
        else:
            field = field_path(error.get("loc", ()))
            problems = [Problem(field, _rule(error, field))]
        found += [p for p in problems if p not in found]
    return found


def invalid_input(errors: Sequence[Mapping[str, Any]]) -> InvalidInput:
    """One InvalidInput for every problem in ``errors`` (pydantic's ``ValidationError.errors()``
    or FastAPI's ``RequestValidationError.errors()``); ``field`` is the first one's."""
    problems = problems_of(errors) or [Problem("body", "is invalid")]
    first = problems[0]
    return InvalidInput(first.rule, field=first.field, more=problems[1:])


def check_all(*checks: Callable[[], object]) -> None:
    """Run every check, then raise one InvalidInput naming every problem they found.

    For checks independent of each other (a task's trigger and its API), so that a request
    hears of all its mistakes at once. One failing check's error is raised as it is (its
    code kept); with several, the first one's code and field lead.
    """
    errors: list[InvalidInput] = []
    for check in checks:
        try:
            check()
        except InvalidInput as error:
            if not error.problems:
                raise
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        first = errors[0]
        problems = [p for error in errors for p in error.problems]
        raise InvalidInput(first.rule, field=first.field, code=first.code, more=problems[1:])


def validate(model: type[M], data: Any) -> M:
    """``model`` from ``data``; InvalidInput naming every problem otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None


@contextmanager
def reported_to_pydantic() -> Iterator[None]:
    """Inside a pydantic validator: a rule's InvalidInput becomes an error pydantic collects
    with the others (so a request hears of every broken rule at once), still naming the
    rule's own field, and every further problem it names (``more``). Anything else
    (TooLarge: 413) still stops validation at once."""
    try:
        yield
    except InvalidInput as error:
        if error.field is None:
            raise
        first, *rest = error.problems
        context: dict[str, object] = {"field": first.field, "rule": first.rule}
        if rest:
            context["more"] = [(p.field, p.rule) for p in rest]
        raise PydanticCustomError(_OUR_RULE, "{field}: {rule}", context) from None
