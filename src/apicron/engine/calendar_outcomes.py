"""What a task's calendars make of the occurrences the planner is about to write (issue 18).

An occurrence a calendar removes is written SKIPPED at once, saying which calendar entry
did it ("excluded by calendar <name>: <entry>"); one it moved runs with a note saying from
where. Tasks without calendars have plain schedules, and nothing here changes for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from apicron.calendars.schedule import CalendarSchedule
from apicron.services.context import new_id
from apicron.store.records import NewExecution
from apicron.triggers import Schedule


@dataclass(frozen=True)
class CalendarSkip:
    at: datetime
    reason: str

    def row(self, task_id: str, now: datetime) -> NewExecution:
        """The SKIPPED row recording it (finished at once, like a MISSED one)."""
        return NewExecution(id=new_id(), task_id=task_id, scheduled_at=self.at,
                            status="SKIPPED", created_at=now, finished_at=now,
                            error_msg=self.reason)


def calendar_skips(schedule: Schedule, times: Iterable[datetime]) -> dict[datetime, CalendarSkip]:
    """The fire times among ``times`` that the schedule's calendars remove."""
    if not isinstance(schedule, CalendarSchedule):
        return {}
    found: dict[datetime, CalendarSkip] = {}
    for at in times:
        outcome = schedule.outcome(at)
        if outcome.skipped is not None:
            found[at] = CalendarSkip(at, outcome.skipped)
    return found


def calendar_note(schedule: Schedule, at: datetime) -> str | None:
    """How a calendar moved the fire at ``at`` (None: it did not)."""
    if not isinstance(schedule, CalendarSchedule):
        return None
    return schedule.outcome(at).moved


def join_notes(*notes: str | None) -> str | None:
    given = [n for n in notes if n]
    return "; ".join(given) if given else None
