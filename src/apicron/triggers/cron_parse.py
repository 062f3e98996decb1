"""Turn a cron string into a validated ``CronExpression``, choosing the dialect by field count."""

from __future__ import annotations

import re
from functools import lru_cache

from apicron.domain.errors import InvalidInput
from apicron.triggers import quartz, unix
from apicron.triggers.cron_expression import CronExpression
from apicron.triggers.cron_fields import refuse

MAX_LENGTH = 512
_FIELD_CHARACTERS = re.compile(r"[0-9A-Za-z*?,/#-]+")
_BAD_CHARACTER = re.compile(r"[^0-9A-Za-z*?,/#-]")
_FIELD_COUNT_RULE = (
    "write 6 or 7 fields for Quartz (seconds minutes hours day-of-month month day-of-week "
    "[year]) or 5 for Unix (minutes hours day-of-month month day-of-week)"
)


def parse_cron(expression: str) -> CronExpression:
    """Validate and parse; raises ``InvalidInput(field="cron_expression")`` for any bad input."""
    if not isinstance(expression, str):
        raise InvalidInput("must be a string", field="cron_expression")
    return _parse(expression)


@lru_cache(maxsize=4096)
def _parse(expression: str) -> CronExpression:
    text = expression.strip()
    if not text:
        raise InvalidInput(
            "is empty; " + _FIELD_COUNT_RULE + ", e.g. '0 0 12 ? * MON-FRI' or '0 12 * * 1-5'",
            field="cron_expression",
        )
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"is longer than {MAX_LENGTH} characters", field="cron_expression")
    parts = text.split()
    if parts[0].startswith("@"):
        return unix.parse_macro(expression, parts)
    names: tuple[str, ...]
    if len(parts) == 5:
        names = unix.FIELD_NAMES
    elif len(parts) in (6, 7):
        names = quartz.FIELD_NAMES
    else:
        raise InvalidInput(
            f"has {len(parts)} field{'s' if len(parts) != 1 else ''}; {_FIELD_COUNT_RULE}",
            field="cron_expression",
        )
    for name, part in zip(names, parts, strict=False):
        if not _FIELD_CHARACTERS.fullmatch(part):
            bad = _BAD_CHARACTER.search(part)
            shown = repr(bad[0]) if bad else "a character"
            raise refuse(name, part, f"contains {shown}, which is not allowed in a cron field")
    if len(parts) == 5:
        return unix.parse_unix(expression, parts)
    return quartz.parse_quartz(expression, parts)
