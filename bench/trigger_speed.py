"""How fast apicron's triggers compute fire times (the figures the trigger tests used to
assert as time bounds; the machine is shared, so they live here, measured, not asserted).

    python -m bench.trigger_speed

Prints, for a few cron expressions in Europe/Berlin, the time of one ``next_after`` (best of
3 × 2,000 calls), the time to preview a whole day of an every-second schedule (86,400 fire
times), and the time of ``next_after`` 874 years after a CALENDAR task's effective time
(computed, not stepped: it should cost about what a near one does).
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime

from apicron.triggers import Schedule, build_trigger

ZONE = "Europe/Berlin"
EFFECTIVE = datetime(2026, 1, 1, tzinfo=UTC)


def _cron(expression: str) -> Schedule:
    return build_trigger(trigger_type="CRON", cron_expression=expression, interval_unit=None,
                         interval_value=None, timezone=ZONE, effective_time=EFFECTIVE)


def _every(value: int, unit: str) -> Schedule:
    return build_trigger(trigger_type="CALENDAR", cron_expression=None, interval_unit=unit,
                         interval_value=value, timezone="UTC",
                         effective_time=datetime(2026, 1, 31, 9, tzinfo=UTC))


def _next_after(schedule: Schedule, moment: datetime) -> Callable[[], object]:
    return lambda: schedule.next_after(moment)


def main() -> None:
    moment = datetime(2026, 5, 5, 10, 7, 3, tzinfo=UTC)
    print("next_after, one call (best of 3 x 2,000):")
    for expression in ("0 0/15 * * * ?", "* * * * * ?", "0 0 9 ? * MON-FRI", "0 9 * * 1-5"):
        best = min(timeit.repeat(_next_after(_cron(expression), moment), number=2000, repeat=3))
        print(f"  {expression:<20} {best / 2000 * 1e6:8.1f} µs")
    schedule = _cron("* * * * * ?")
    began = time.perf_counter()
    fires = list(schedule.preview(datetime(2026, 6, 1, tzinfo=UTC), 86_400))
    print(f"a day of every-second fire times ({len(fires):,}): "
          f"{time.perf_counter() - began:.2f} s")
    far = datetime(2900, 5, 5, 10, 7, 3, tzinfo=UTC)
    print("CALENDAR next_after 874 years on (best of 3 x 100):")
    for unit, value in (("MINUTE", 7), ("HOUR", 5), ("DAY", 3), ("WEEK", 1), ("MONTH", 1)):
        best = min(timeit.repeat(_next_after(_every(value, unit), far), number=100, repeat=3))
        print(f"  every {value} {unit:<7} {best / 100 * 1e6:8.1f} µs")


if __name__ == "__main__":
    main()
