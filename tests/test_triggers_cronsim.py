"""apicron's Unix dialect against cronsim, a peer that follows Debian cron closely, over
generated expressions and real zones with DST, comparing next fire times as instants.

cronsim implements Debian cron's rules, the ones apicron adopts for 5-field expressions: the
day fields combine with OR unless one of them starts with ``*``; day-of-week runs 0-7 with
Sunday 0 and 7, so ``1/2`` reaches Sunday; and (cronsim.py, ``fixup_tz``) an expression
whose minute and hour fields both name fixed times fires a skipped wall time once at the
jump and a repeated one once, at its first pass, while one with a ``*`` in either runs on
absolute time (both passes of a repeated hour fire; a gap has nothing to catch up).

Left out, each for a reason:
- expressions either side refuses: apicron's documented refusals (a step longer than its
  field, a day that never comes, ``?``) and cronsim's own (``min(days) > 29`` with AND);
- ``a-a/s`` items: cronsim reads ``5-5/2`` as ``5/2``, running to the end of the field;
- a minute or hour field starting ``0/``: apicron counts ``0/15`` as the whole-range step
  it is (the Quartz spelling of ``*/15``) and runs it on absolute time; Debian cron and
  cronsim only look for a leading ``*``;
- absolute-time expressions in zones whose clocks do not jump by a whole hour from a whole
  hour after midnight (Lord Howe's 02:00 → 02:30, Chatham's 02:45 → 03:45, St John's
  00:01 → 01:01 until 2011, Santiago's and Havana's 00:00 → 01:00): cronsim moves to the
  next hour or day by setting the minutes to 0 (or the time to midnight) and adding 3600 s
  in UTC, which there starts from a wall time in the gap and skips the hour's matches;
- a start inside the second pass of a repeated hour for fixed-time expressions: cronsim
  drops the start's fold and answers a first-pass time before the start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from cronsim.cronsim import is_imaginary
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apicron.domain.errors import InvalidInput
from apicron.triggers import parse_cron
from tests.trigger_cases import cron, transitions

DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
# One- and two-hour shifts, both hemispheres, shifts at 02:00, 02:45 and midnight, a
# negative-DST zone (Dublin) and a 30-minute shift (Lord Howe).
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Antarctica/Troll",
    "Australia/Sydney",
    "America/Santiago",
    "America/Havana",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/Dublin",
    "Australia/Lord_Howe",
]
ODD_SHIFTS = frozenset(
    {
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/St_Johns",
        "America/Santiago",
        "America/Havana",
    }
)
FIRES = 30
EARLY = datetime(2000, 1, 1, tzinfo=UTC)


@st.composite
def field(
    draw: st.DrawFn, low: int, high: int, names: list[str] | None = None, name_base: int = 0
) -> str:
    """'*', n, a-b, */s, a/s, a-b/s or a list of them; names where the field has them."""

    def value(n: int) -> str:
        if names and n - name_base < len(names) and draw(st.booleans()):
            return names[n - name_base]
        return str(n)

    def item() -> str:
        kind = draw(st.sampled_from(["value", "range", "star-step", "start-step", "range-step"]))
        if kind == "value":
            return value(draw(st.integers(low, high)))
        step = draw(st.integers(1, high - low))
        if kind == "star-step":
            return f"*/{step}"
        if kind == "start-step":
            return f"{value(draw(st.integers(low, high)))}/{step}"
        first = draw(st.integers(low, high - 1))
        span = f"{value(first)}-{value(draw(st.integers(first + 1, high)))}"
        return span if kind == "range" else f"{span}/{step}"

    if draw(st.integers(0, 4)) == 0:
        return "*"
    return ",".join(item() for _ in range(draw(st.integers(1, 3))))


@st.composite
def unix_expressions(draw: st.DrawFn) -> str:
    # Hours 0-3 hold every DST shift of the zones above, so they are drawn often.
    hour = draw(field(0, 23) | st.sampled_from(["*", "0-3", "1", "2", "*/2", "1,2", "0"]))
    minute = draw(field(0, 59) | st.sampled_from(["*", "0", "30", "*/15", "45", "0,30"]))
    dom = draw(field(1, 31))
    month = draw(field(1, 12, MONTH_NAMES, 1))
    dow = draw(field(0, 7, DAY_NAMES, 0))
    return f"{minute} {hour} {dom} {month} {dow}"


@st.composite
def zone_and_start(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and an instant, most often shortly before one of its DST transitions."""
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2001, 2059))
    shifts = transitions(zone, year)
    if shifts and draw(st.integers(0, 3)) > 0:
        lead = draw(st.integers(0, 6 * 3600) | st.integers(0, 3 * 86400))
        return zone, draw(st.sampled_from(shifts)) - timedelta(seconds=lead)
    moment = draw(st.datetimes(datetime(year, 1, 1), datetime(year, 12, 31)))
    return zone, moment.replace(tzinfo=UTC)


def starts_whole_range_step(text: str) -> bool:
    first = text.split(",")[0]
    return first.partition("/")[1] == "/" and first.partition("/")[0].lstrip("0") == ""


def cronsim_fires(expression: str, zone: ZoneInfo, start: datetime) -> tuple[list[datetime], bool]:
    """cronsim's next fire instants strictly after ``start``; and whether it ran out of
    fires (it gives up after 50 years without one)."""
    fires: list[datetime] = []
    try:
        for local in CronSim(expression, start.astimezone(zone)):
            assert not is_imaginary(local), local
            fires.append(local.astimezone(UTC))
            if len(fires) == FIRES:
                return fires, False
    except CronSimError:
        assume(False)
    return fires, True


def single_value_step(item: str) -> bool:
    span = item.partition("/")[0].split("-")
    return "/" in item and len(span) == 2 and span[0] == span[1]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=unix_expressions(), place=zone_and_start())
def test_unix_expressions_fire_when_cronsim_says(
    expression: str, place: tuple[str, datetime]
) -> None:
    zone_name, start = place
    parts = expression.split()
    assume(not any(single_value_step(item) for part in parts for item in part.split(",")))
    assume(not starts_whole_range_step(parts[0]) and not starts_whole_range_step(parts[1]))
    try:
        schedule = cron(expression, zone_name, effective=EARLY)
    except InvalidInput:
        assume(False)
        raise
    absolute = parse_cron(expression).absolute_time
    assume(not (absolute and zone_name in ODD_SHIFTS))
    zone = ZoneInfo(zone_name)
    assume(absolute or not start.astimezone(zone).fold)
    expected, ran_out = cronsim_fires(expression, zone, start)
    fires: list[datetime] = []
    moment: datetime | None = start
    while len(fires) < len(expected) and moment is not None:
        moment = schedule.next_after(moment)
        if moment is not None:
            fires.append(moment)
    assert fires == expected
    if ran_out:
        following = schedule.next_after(fires[-1] if fires else start)
        # cronsim gives up 50 calendar years after the year it last matched in.
        assert following is None or following.year > (fires[-1] if fires else start).year + 49
