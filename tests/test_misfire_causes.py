"""Why an occurrence was late, as ``Circumstances`` tells it (issue 13: a true reason),
and which of them count as apicron being down (coalescing's rule, README)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apicron.domain.misfire import Circumstances

STARTED = datetime(2027, 3, 1, 8, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return STARTED + timedelta(seconds=seconds)


def test_each_cause_is_told_and_only_downtime_outage_or_takeover_count_as_down() -> None:
    outage = Circumstances(STARTED, outage_from=at(10), outage_until=at(20))
    now = at(30)
    told = {s: (outage.cause(at(s), now), outage.was_down(at(s), now)) for s in (-5, 15, 25)}
    assert told == {
        -5: ("apicron was not running at its time", True),
        15: ("the database was unreachable at its time", True),
        25: ("the engine was behind schedule by 5 s", False),
    }
    still_out = Circumstances(STARTED, outage_from=at(10))  # no end yet: until now
    assert still_out.was_down(at(29), now)
    assert still_out.cause(at(29), now) == "the database was unreachable at its time"
    taken = Circumstances(STARTED, adopted=True)
    assert taken.was_down(at(25), now)
    assert taken.cause(at(25), now) == (
        "the engine that held it stopped before firing it (another engine took it over)")
    # Downtime and outage come first: they say why the engine that held it was not firing.
    assert taken.cause(at(-5), now) == "apicron was not running at its time"
