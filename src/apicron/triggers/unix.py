"""The Unix (Vixie/Debian cron) dialect: ``min hour day-of-month month day-of-week``.

Seconds are always 0, day-of-week is 0-7 with both 0 and 7 meaning Sunday, and when
both day fields restrict (neither starts with ``*``) a day matches if either does.
Debian cron's DST rule: a ``*`` first in the minute or hour field runs the job on
absolute time; otherwise it names fixed times (see ``cron_trigger``).
"""

from __future__ import annotations

from apicron.triggers.cron_days import DaysOfMonth, Weekdays, day_tables
from apicron.triggers.cron_expression import CronExpression
from apicron.triggers.cron_fields import (
    DAY_OF_MONTH,
    HOURS,
    MINUTES,
    MONTH,
    UNIX_DAY_OF_WEEK,
    matches_every_value,
    parse_values,
    refuse,
)

FIELD_NAMES = ("minutes", "hours", "day-of-month", "month", "day-of-week")

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def parse_macro(source: str, parts: list[str]) -> CronExpression:
    word = parts[0]
    expansion = MACROS.get(word.lower())
    if expansion is None:
        raise refuse("macro", word, f"is not supported; use one of {', '.join(MACROS)}")
    if len(parts) > 1:
        raise refuse("macro", word, "must be the whole expression, with nothing after it")
    return parse_unix(source, expansion.split())


def parse_unix(source: str, parts: list[str]) -> CronExpression:
    minute_text, hour_text, dom_text, month_text, dow_text = parts
    minutes = parse_values(MINUTES, minute_text, "unix")
    hours = parse_values(HOURS, hour_text, "unix")
    days_of_month = parse_values(DAY_OF_MONTH, dom_text, "unix")
    months = parse_values(MONTH, month_text, "unix")
    weekdays = parse_values(UNIX_DAY_OF_WEEK, dow_text, "unix")
    by_month = None if dom_text == "*" else DaysOfMonth(frozenset(days_of_month))
    by_week = None if dow_text == "*" else Weekdays(frozenset((v + 6) % 7 for v in weekdays))
    # Vixie cron decides OR versus AND by the first character, so '*/2' still means AND.
    either = not dom_text.startswith("*") and not dow_text.startswith("*")
    return CronExpression(
        source=source,
        dialect="unix",
        fields=tuple(parts),
        seconds=(0,),
        minutes=minutes,
        hours=hours,
        months=months,
        years=None,
        by_month=by_month,
        by_week=by_week,
        either=either,
        absolute_time=(
            matches_every_value(MINUTES, minute_text) or matches_every_value(HOURS, hour_text)
        ),
        warnings=(),
        day_tables=day_tables(by_month, by_week, either=either),
    )
