"""Plain-English descriptions of schedules."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from cron_descriptor import ExpressionDescriptor, Options  # type: ignore[import-untyped]

from apicron.triggers.cron_expression import CronExpression


@lru_cache(maxsize=1024)
def describe_cron(expression: CronExpression, zone_name: str) -> str:
    """E.g. "At 12:00, on the third Friday of the month (Europe/Berlin)"."""
    options = Options(
        locale_code="en_US",
        use_24hour_time_format=True,
        day_of_week_start_index_zero=expression.dialect == "unix",
    )
    try:
        text = str(ExpressionDescriptor(_descriptor_input(expression), options).get_description())
    except Exception:
        # A description is a courtesy: an expression the describer cannot phrase must still
        # schedule, so it is shown as written.
        text = f"Cron '{' '.join(expression.source.split())}'"
    return f"{text} ({zone_name})"


def _descriptor_input(expression: CronExpression) -> str:
    """Always seven fields, so six are never mistaken for minutes-to-year."""
    fields = [field.upper() for field in expression.fields]
    if expression.dialect == "quartz":
        if fields[5] == "L":
            fields[5] = "7"
        return " ".join(fields)
    if fields[4] == "0-7":
        fields[4] = "*"
    return " ".join(["0", *fields, "*"])


def describe_calendar(unit: str, value: int, anchor: datetime, zone_name: str) -> str:
    """E.g. "Every 2 days at 09:30 Europe/Berlin, starting 2026-01-01 09:30"."""
    start = format_wall(anchor)
    if unit in ("MINUTE", "HOUR"):
        noun = unit.lower()
        every = f"Every {noun}" if value == 1 else f"Every {value} {noun}s"
        return f"{every}, starting {start} {zone_name}"
    if unit == "DAY":
        every = "Every day" if value == 1 else f"Every {value} days"
    elif unit == "WEEK":
        every = "Every week" if value == 1 else f"Every {value} weeks"
        every += f" on {anchor:%A}"
    else:
        every = "Every month" if value == 1 else f"Every {value} months"
        every += f" on day {anchor.day}"
        if anchor.day > 28:
            every += " (or the month's last day)"
    return f"{every} at {_clock(anchor)} {zone_name}, starting {start}"


def format_wall(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d} {_clock(moment)}"


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"
