"""When tasks fire: Quartz and Unix cron, calendar intervals, time zones and DST.

The rest of apicron uses only what this module exports. Every datetime in and out is
aware UTC; wall-clock rules are applied in the task's IANA zone.

DST, by Debian cron's rule for both cron dialects (``cron_trigger``): an expression with a
wildcard or whole-range step in its seconds, minutes or hours runs on absolute time (both
passes of a repeated hour fire; a gap has nothing to catch up); one that names fixed times
fires a repeated wall time once, at its first pass, and a skipped one once, at the jump.
Calendar minutes and hours step in absolute time; days, weeks and months keep their wall
time by the fixed-time rule, the wall time the user typed even inside a gap. A preview's
``FireTime.dst_note`` says what a DST change did to each fire; ``Schedule.warnings`` what a
user may have misread (a Quartz day-of-week in numbers).
"""

from apicron.triggers.cron_expression import CronExpression
from apicron.triggers.cron_parse import parse_cron
from apicron.triggers.model import FireTime, Trigger
from apicron.triggers.schedule import Schedule, build_trigger
from apicron.triggers.zones import load_zone

__all__ = [
    "CronExpression",
    "FireTime",
    "Schedule",
    "Trigger",
    "build_trigger",
    "load_zone",
    "parse_cron",
]
