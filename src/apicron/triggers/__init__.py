"""When tasks fire: Quartz and Unix cron, calendar intervals, time zones and DST.

The rest of apicron uses only what this module exports. Every datetime in and out is
aware UTC; wall-clock rules are applied in the task's IANA zone.
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
