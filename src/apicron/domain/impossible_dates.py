"""What is wrong with a date or time that has the right shape but cannot exist.

``2027-02-30`` and ``2027-13-01`` look like RFC 3339 dates, ``25:00`` like a time; a
message that only repeats the format ("use YYYY-MM-DDTHH:MM:SS…") leaves the reader
comparing characters. :func:`impossible` says which part is wrong ("2027-02-30 is not a
date: February 2027 has 28 days"). Used wherever apicron reads a date or a time: request
bodies and queries, CLI options (through the same models), calendar entries, the console.
"""

from __future__ import annotations

import calendar
import re

_SHAPE = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2}))?)?"
)


def impossible(text: str) -> str | None:
    """Why ``text`` (starting ``YYYY-MM-DD``, optionally ``THH:MM[:SS]``) names no real
    date or time, or None when its parts are possible (or it has another shape: the
    format's own rule is then the message).

    >>> impossible("2027-02-30")
    '2027-02-30 is not a date: February 2027 has 28 days'
    >>> impossible("2027-01-01T25:00:00Z")
    '25:00:00 is not a time: hours are 00-23'
    """
    match = _SHAPE.match(text)
    if match is None:
        return None
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    written = f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
    if year == 0:
        return f"{written} is not a date: there is no year 0000"
    if not 1 <= month <= 12:
        return f"{written} is not a date: there is no month {match.group(2)} (months are 01-12)"
    days = calendar.monthrange(year, month)[1]
    if day == 0:
        return f"{written} is not a date: there is no day 00 (days start at 01)"
    if day > days:
        return (f"{written} is not a date: {calendar.month_name[month]} {year} has "
                f"{days} days")
    if match.group(4) is None:
        return None
    hour, minute = int(match.group(4)), int(match.group(5))
    second = int(match.group(6) or 0)
    clock = text.strip()[11:19 if match.group(6) else 16]
    for value, most, unit in ((hour, 23, "hours"), (minute, 59, "minutes"),
                              (second, 59, "seconds")):
        if value > most:
            return f"{clock} is not a time: {unit} are 00-{most}"
    return None
