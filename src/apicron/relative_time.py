"""Relative times as people type them ("in 10 minutes", "in 2h 30m", "+90s"): the one rule
the CLI's ``--at`` and the console's Run At share (issue 18: a one-off run "also 'in 10
minutes' in CLI/console"). Standard library only: the CLI's base install imports it."""

from __future__ import annotations

import re

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_PART = re.compile(r"\s*(\d+)\s*([a-z]+)\s*,?\s*(?:and\s+)?")


def relative_seconds(text: str) -> int | None:
    """Seconds from now that ``text`` says ("in 10 minutes", "in 2h", "in 1h 30m", "+90s"),
    or None when it is not relative (then it is a time the API reads). Raises ValueError for
    relative text that does not read."""
    words = text.strip().lower()
    if not words.startswith("in ") and not words.startswith("+"):
        return None
    rest = words[1:] if words.startswith("+") else words[3:]
    total, position = 0, 0
    while position < len(rest):
        match = _PART.match(rest, position)
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(f"cannot read {text!r}: write e.g. 'in 10 minutes' or 'in 2h 30m'")
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0:
        raise ValueError(f"cannot read {text!r}: write e.g. 'in 10 minutes' or 'in 2h 30m'")
    return total
