"""The one exception root of apicron and its kinds.

Every layer raises these; the HTTP edge maps them to ``{error_code, error_msg}`` and a
status in one place (``apicron.api.errors``), the CLI prints ``error_msg``. A message says
which field is wrong and which rule it broke, so a person can act on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# How many problems an error's message names; ``problems`` holds them all.
NAMED_IN_MESSAGE = 10


@dataclass(frozen=True)
class Problem:
    """One broken rule: the field (``request.headers[0].name``) and the rule it broke."""

    field: str
    rule: str


class ApicronError(Exception):
    """Root of every error apicron raises on purpose.

    ``field`` and ``rule`` are the first (often only) problem; ``more`` adds others found in
    the same request, so a person fixes them all at once. ``problems`` lists every one.
    """

    status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        more: Sequence[Problem] = (),
    ):
        self.field = field
        self.rule = message
        if code is not None:
            self.code = code
        first = (Problem(field, message),) if field else ()
        self.problems: tuple[Problem, ...] = first + tuple(more)
        # The field leads the message so that every surface shows it the same way.
        text = f"{field}: {message}" if field else message
        if more:
            named = [f"{p.field}: {p.rule}" for p in self.problems[:NAMED_IN_MESSAGE]]
            left = len(self.problems) - len(named)
            text = "; ".join(named) + (f"; and {left} more" if left else "")
        super().__init__(text)

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(ApicronError):
    """A value breaks a rule; nothing was changed."""

    status = 400
    code = "INVALID_INPUT"


class Unauthorized(ApicronError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApicronError):
    status = 403
    code = "FORBIDDEN"


class NotFound(ApicronError):
    status = 404
    code = "NOT_FOUND"


class Conflict(ApicronError):
    """The request is valid but the current state forbids it (a name taken, a task started)."""

    status = 409
    code = "CONFLICT"


class TooLarge(ApicronError):
    status = 413
    code = "TOO_LARGE"


class ConfigurationError(ApicronError):
    """A setting is unusable; raised at start-up and printed as one line."""

    code = "BAD_SETTING"
