"""Generated expressions against two oracles: croniter for Unix expressions in UTC, and the
independent reference matcher in ``trigger_cases`` for Quartz expressions in any zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter  # type: ignore[import-untyped]
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apicron.domain.errors import InvalidInput
from apicron.triggers import Schedule
from tests.trigger_cases import Reference, cron, expected_fires, resolve, transitions

EARLY = datetime(2000, 1, 1, tzinfo=UTC)
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def plain_field(
    draw: st.DrawFn,
    low: int,
    high: int,
    names: list[str] | None = None,
    name_base: int = 0,
    *,
    single_ranges: bool = True,
) -> str:
    """One cron field of plain values: '*', n, a-b, */s, a/s, a-b/s or a list of them.

    croniter reads a range of one value such as '5-5' as '*', so its oracle test asks for
    ranges of two values or more.
    """

    def value(n: int) -> str:
        if names and draw(st.booleans()):
            return names[n - name_base]
        return str(n)

    def item() -> str:
        kind = draw(st.sampled_from(["value", "range", "star-step", "start-step", "range-step"]))
        if kind == "value":
            return value(draw(st.integers(low, high)))
        if kind == "star-step":
            return f"*/{draw(st.integers(1, high - low))}"
        if kind == "start-step":
            return f"{value(draw(st.integers(low, high)))}/{draw(st.integers(1, high - low))}"
        first = draw(st.integers(low, high - (0 if single_ranges else 1)))
        last = draw(st.integers(first + (0 if single_ranges else 1), high))
        span = f"{value(first)}-{value(last)}"
        if kind == "range":
            return span
        return f"{span}/{draw(st.integers(1, high - low))}"

    if draw(st.integers(0, 5)) == 0:
        return "*"
    return ",".join(item() for _ in range(draw(st.integers(1, 3))))


@st.composite
def unix_expressions(draw: st.DrawFn) -> str:
    minute = draw(plain_field(0, 59, single_ranges=False))
    hour = draw(plain_field(0, 23, single_ranges=False))
    dom = draw(plain_field(1, 28, single_ranges=False))
    month = draw(plain_field(1, 12, MONTH_NAMES, 1, single_ranges=False))
    dow = draw(
        plain_field(0, 6, DAY_NAMES, 0, single_ranges=False)
        | st.sampled_from(["7", "5-7", "0-7", "1,7"])
    )
    return f"{minute} {hour} {dom} {month} {dow}"


@st.composite
def sparse_clock_field(draw: st.DrawFn, high: int) -> str:
    """A time field with few values, so a day holds a countable number of fires."""
    first = draw(st.integers(0, high))
    return draw(
        st.sampled_from(
            [
                str(first),
                f"{first},{(first + 7) % (high + 1)}",
                f"{first}/{max(1, (high + 1) // 3)}",
                f"*/{max(1, (high + 1) // 4)}",
                f"{min(first, high - 2)}-{min(first, high - 2) + 2}",
            ]
        )
    )


@st.composite
def quartz_expressions(draw: st.DrawFn) -> str:
    second = draw(sparse_clock_field(59))
    minute = draw(sparse_clock_field(59))
    # Hours 1-3 hold every DST gap and repeat of the zones under test.
    hour = draw(st.sampled_from(["*", "*/5", "1-3", "2", "1,2"]) | sparse_clock_field(23))
    month = draw(st.just("*") | plain_field(1, 12, MONTH_NAMES, 1))
    weekday = st.integers(1, 7).map(lambda n: draw(st.sampled_from([str(n), DAY_NAMES[n - 1]])))
    if draw(st.booleans()):
        dom = "?"
        dow = draw(
            st.one_of(
                st.just("*"),
                plain_field(1, 7, DAY_NAMES, 1),
                st.just("L"),
                weekday.map(lambda day: f"{day}L"),
                st.tuples(weekday, st.integers(1, 5)).map(lambda pair: f"{pair[0]}#{pair[1]}"),
            )
        )
    else:
        dow = "?"
        dom = draw(
            st.one_of(
                st.just("*"),
                plain_field(1, 31),
                st.sampled_from(["L", "LW"]),
                st.integers(1, 30).map(lambda n: f"L-{n}"),
                st.integers(1, 31).map(lambda n: f"{n}W"),
            )
        )
    year = draw(st.sampled_from(["", " *", " 2020-2031", " 2021/2"]))
    return f"{second} {minute} {hour} {dom} {month} {dow}{year}"


@st.composite
def zone_and_start(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and an instant, often shortly before one of that zone's DST transitions."""
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.integers(2001, 2059))
    shifts = transitions(zone, year)
    near_a_shift = draw(st.integers(0, 3)) > 0
    if shifts and near_a_shift:
        lead = draw(st.integers(0, 6 * 3600) | st.integers(0, 3 * 86400))
        return zone, draw(st.sampled_from(shifts)) - timedelta(seconds=lead)
    moment = draw(st.datetimes(datetime(year, 1, 1), datetime(year, 12, 31)))
    return zone, moment.replace(tzinfo=UTC)


def schedule_or_skip(expression: str, zone: str) -> Schedule:
    try:
        return cron(expression, zone, effective=EARLY)
    except InvalidInput:
        assume(False)
        raise


@PROPERTY_SETTINGS
@given(
    expression=unix_expressions(),
    start=st.datetimes(datetime(2001, 1, 1), datetime(2060, 1, 1)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
)
def test_unix_expressions_agree_with_croniter_in_utc(expression: str, start: datetime) -> None:
    day_fields = expression.split()[2::2]
    # croniter picks OR or AND by whether a day field contains '*' anywhere; Vixie cron (and
    # apicron) by whether it starts with one. Lists like '1,*/2' are where the two part.
    assume(not any("*" in field and not field.startswith("*") for field in day_fields))
    # croniter ends a day-of-week 'a/s' at Saturday (6); apicron, like cronsim and Debian
    # cron, runs it to 7, Sunday (tests/test_triggers_cronsim.py checks that against cronsim).
    assume(not any(
        "/" in item and "-" not in item and not item.startswith("*")
        for item in day_fields[1].split(",")
    ))
    schedule = schedule_or_skip(expression, "UTC")
    oracle = croniter(expression, start, implement_cron_bug=True)
    expected = [oracle.get_next(datetime) for _ in range(12)]
    assert [fire.at for fire in schedule.preview(start + timedelta(microseconds=1), 12)] == expected


@PROPERTY_SETTINGS
@given(expression=quartz_expressions(), place=zone_and_start())
def test_quartz_fires_are_exactly_the_reference_fires(
    expression: str, place: tuple[str, datetime]
) -> None:
    assume(len(Reference(expression).times_of_day()) <= 400)
    zone, start = place
    schedule = schedule_or_skip(expression, zone)
    tz = ZoneInfo(zone)
    first_day = start.astimezone(tz).date()
    days = 40
    expected = expected_fires(expression, tz, first_day, days)
    last_day = first_day + timedelta(days=days)
    window_start = resolve(datetime.combine(first_day, datetime.min.time()), tz)
    window_end = resolve(datetime.combine(last_day, datetime.min.time()), tz)
    fires = [f.at for f in schedule.preview(window_start, len(expected) + 1)]
    assert [f for f in fires if f < window_end] == expected


@PROPERTY_SETTINGS
@given(expression=quartz_expressions() | unix_expressions(), place=zone_and_start())
def test_fires_strictly_increase_and_each_matches_every_field(
    expression: str, place: tuple[str, datetime]
) -> None:
    zone, start = place
    schedule = schedule_or_skip(expression, zone)
    reference = Reference(expression)
    tz = ZoneInfo(zone)
    previous = start
    for fire in schedule.preview(start, 60):
        assert fire.at > previous or fire.at == start == previous
        assert fire.at.tzinfo is UTC
        previous = fire.at
        wall = fire.local.replace(tzinfo=None)
        if not fire.dst_shifted:
            assert reference.matches(wall)
            continue
        # The gap rule: a wall time the clock jumped over fires at the jump instead (the
        # jump's own wall time may match too; it still fires once).
        before = (fire.at - timedelta(seconds=1)).astimezone(tz)
        assert before.utcoffset() != fire.local.utcoffset()
        skipped = before.replace(tzinfo=None) + timedelta(seconds=1)
        gap = [skipped + timedelta(seconds=s) for s in range(int((wall - skipped).total_seconds()))]
        assert any(reference.matches(moment) for moment in gap)


@PROPERTY_SETTINGS
@given(expression=quartz_expressions() | unix_expressions())
def test_next_after_each_fire_is_the_next_fire(expression: str) -> None:
    schedule = schedule_or_skip(expression, "Europe/Berlin")
    fires = [fire.at for fire in schedule.preview(datetime(2026, 3, 1, tzinfo=UTC), 20)]
    for current, following in pairwise(fires):
        assert schedule.next_after(current) == following
        assert schedule.first_at_or_after(current) == current
        assert schedule.first_at_or_after(current + timedelta(microseconds=1)) == following


DAY_SPECIALS = (
    [f"0 0 0 {n}W * ?" for n in range(1, 32)]
    + [f"0 0 0 L-{n} * ?" for n in range(1, 31)]
    + ["0 0 0 L * ?", "0 0 0 LW * ?", "0 0 0 ? * L"]
    + [f"0 0 0 ? * {n}L" for n in range(1, 8)]
    + [f"0 0 0 ? * {n}#{k}" for n in range(1, 8) for k in range(1, 6)]
)


@pytest.mark.parametrize("expression", DAY_SPECIALS)
def test_every_day_special_matches_the_reference_for_ten_years(expression: str) -> None:
    utc = ZoneInfo("UTC")
    expected = expected_fires(expression, utc, date(2026, 1, 1), 3653)
    schedule = cron(expression, effective=datetime(2026, 1, 1, tzinfo=UTC))
    fires = [fire.at for fire in schedule.preview(expected[0], len(expected) + 1)]
    assert fires[: len(expected)] == expected
    assert fires[len(expected)] >= datetime(2036, 1, 1, tzinfo=UTC)
