"""The grammar every cron field shares: value ranges, names, lists, ranges and steps.

Both dialects parse their plain fields here; the day fields' special forms (``L``, ``W``,
``#``) live in ``quartz.py``. Every refusal names the field and the rule it broke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from apicron.domain.errors import InvalidInput

Dialect = Literal["quartz", "unix"]

# Nine digits keep int() cheap and far below Python's limit on digits in a conversion.
_NUMBER = re.compile(r"[0-9]{1,9}")
# Looks like a Quartz special, so the refusal can say where that special belongs.
_SPECIAL_LOOKALIKE = re.compile(r"[0-9]*(?:L|W|LW)(?:-[0-9]*)?|[0-9A-Z]*#[0-9]*")

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0
    # Unix day-of-week accepts 7 for Sunday, but '*' must not count Sunday twice.
    wildcard_high: int | None = None
    # Added to an out-of-range refusal, where one numbering is easily taken for another.
    numbering: str = ""

    @property
    def top(self) -> int:
        return self.high if self.wildcard_high is None else self.wildcard_high

    @property
    def largest_step(self) -> int:
        return self.top - self.low

    def describe_values(self) -> str:
        numbers = f"a number {self.low}-{self.high}"
        if self.names:
            return f"{numbers} or a name {self.names[0]}-{self.names[-1]}"
        return numbers

    def lookup(self, token: str) -> int | None:
        if _NUMBER.fullmatch(token):
            return int(token)
        upper = token.upper()
        if upper in self.names:
            return self.names.index(upper) + self.name_base
        return None


SECONDS = FieldSpec("seconds", 0, 59)
MINUTES = FieldSpec("minutes", 0, 59)
HOURS = FieldSpec("hours", 0, 23)
DAY_OF_MONTH = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec("month", 1, 12, MONTH_NAMES, 1)
QUARTZ_DAY_OF_WEEK = FieldSpec(
    "day-of-week",
    1,
    7,
    DAY_NAMES,
    1,
    numbering="; Quartz counts 1 = Sunday to 7 = Saturday (Unix counts 0 = Sunday), so "
    "names such as SUN or MON-FRI are safer",
)
UNIX_DAY_OF_WEEK = FieldSpec("day-of-week", 0, 7, DAY_NAMES, 0, wildcard_high=6)
YEAR = FieldSpec("year", 1970, 2099)


def refuse(part: str, text: str, rule: str) -> InvalidInput:
    return InvalidInput(f"{part} '{text}': {rule}", field="cron_expression")


def parse_values(spec: FieldSpec, text: str, dialect: Dialect) -> tuple[int, ...]:
    """Expand ``*``, ``n``, ``a-b``, ``a/s``, ``*/s``, ``a-b/s`` and comma lists, sorted."""
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise refuse(spec.name, text, "a list item is empty; remove the stray ','")
        values.update(_parse_item(spec, text, item, dialect))
    return tuple(sorted(values))


def _parse_item(spec: FieldSpec, text: str, item: str, dialect: Dialect) -> range:
    base, slash, step_text = item.partition("/")
    step = _parse_step(spec, text, step_text) if slash else 1
    if base == "*":
        return range(spec.low, spec.top + 1, step)
    if not base:
        raise refuse(spec.name, text, f"'/' needs a start before it, e.g. '*/{step_text}'")
    start_text, dash, end_text = base.partition("-")
    start = parse_value(spec, text, start_text, dialect)
    if not dash:
        # 'a/s' runs to the field's highest value, as in cronsim and Debian cron: Unix
        # day-of-week '1/2' is 1-7/2, Monday to Sunday, not '*''s 0-6 cut short at Saturday.
        return range(start, (spec.high if slash else start) + 1, step)
    end = parse_value(spec, text, end_text, dialect)
    if start > end:
        raise refuse(
            spec.name,
            text,
            f"range {start_text}-{end_text} runs backwards; ranges do not wrap around, "
            f"so write it as a list such as '{_wrapped(spec, start, end, start_text)}'",
        )
    return range(start, end + 1, step)


def _wrapped(spec: FieldSpec, start: int, end: int, start_text: str) -> str:
    """``start``-top,low-``end``, in names when the range was written in names: the hint
    must mean what the user wrote and read the same to a Quartz or a Unix reader."""
    def written(value: int) -> str:
        if spec.names and not _NUMBER.fullmatch(start_text):
            return spec.names[value - spec.name_base]
        return str(value)

    def span(first: int, last: int) -> str:
        return written(first) if first == last else f"{written(first)}-{written(last)}"

    return f"{span(start, spec.top)},{span(spec.low, end)}"


def _parse_step(spec: FieldSpec, text: str, step_text: str) -> int:
    if not _NUMBER.fullmatch(step_text):
        raise refuse(spec.name, text, f"the step after '/' must be a number, got '{step_text}'")
    step = int(step_text)
    if not 1 <= step <= spec.largest_step:
        raise refuse(
            spec.name,
            text,
            f"the step after '/' must be 1-{spec.largest_step}, got {step}; a larger step "
            "would only ever match its start",
        )
    return step


def parse_value(spec: FieldSpec, text: str, token: str, dialect: Dialect) -> int:
    if not token:
        raise refuse(spec.name, text, "a range needs a value on both sides of '-'")
    value = spec.lookup(token)
    if value is None:
        raise refuse(spec.name, text, _unknown_token_rule(spec, token, dialect))
    if not spec.low <= value <= spec.high:
        rule = f"{value} is out of range {spec.low}-{spec.high}{spec.numbering}"
        raise refuse(spec.name, text, rule)
    return value


def matches_every_value(spec: FieldSpec, text: str) -> bool:
    """True when the field starts with ``*``, ``*/s`` or ``low/s`` (``0/15`` in minutes).

    Debian cron (cron.c, ``MIN_STAR``/``HR_STAR``) and cronsim treat a minute or hour field
    that starts with ``*`` as a wildcard and run such jobs on absolute time; ``low/s`` is
    the Quartz spelling of ``*/s`` and counts the same. A list counts by its first item.
    """
    first = text.split(",", 1)[0]
    if first.startswith("*"):
        return True
    base, slash, _ = first.partition("/")
    return bool(slash) and _NUMBER.fullmatch(base) is not None and int(base) == spec.low


def _unknown_token_rule(spec: FieldSpec, token: str, dialect: Dialect) -> str:
    if "?" in token:
        if dialect == "unix":
            return "'?' is Quartz syntax; in a 5-field Unix expression use '*'"
        return "'?' is only allowed alone in day-of-month or day-of-week"
    upper = token.upper()
    if _SPECIAL_LOOKALIKE.fullmatch(upper):
        if dialect == "unix":
            return (
                "'L', 'W' and '#' are Quartz syntax and are not supported in a 5-field "
                "Unix expression; use the 6-field Quartz form"
            )
        if "#" in upper:
            return "'#' is only allowed in day-of-week, e.g. '6#3' for the third Friday"
        if "W" in upper:
            return "'W' is only allowed in day-of-month, e.g. '15W' or 'LW'"
        return "'L' is only allowed in day-of-month or day-of-week"
    return f"'{token}' is not {spec.describe_values()}"
