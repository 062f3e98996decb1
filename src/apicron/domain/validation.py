"""Turning pydantic's validation errors into apicron's InvalidInput, field named first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from apicron.domain.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

_LOCATION_PREFIXES = ("body", "query", "path", "header")


def field_path(location: Sequence[int | str]) -> str:
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


def _rule(error: Any) -> str:
    message = str(error.get("msg", "is invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error.get("type") == "extra_forbidden":
        return "is not a known field"
    if error.get("type") == "missing":
        return "is required"
    return message


def invalid_input(errors: Sequence[Any]) -> InvalidInput:
    first = errors[0]
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return InvalidInput(_rule(first) + more, field=field_path(first.get("loc", ())))


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
