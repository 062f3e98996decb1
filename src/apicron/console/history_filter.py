"""The history page's filters as typed in the address bar: status, trigger, a date range
in the task's zone (ISO dates, as the tables show them) and the page number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from apicron.domain.vocabulary import ExecutionTrigger, choices
from apicron.triggers import load_zone

STATUSES = ("SUCCEEDED", "FAILED", "RUNNING", "PENDING", "MISSED", "SKIPPED")
# Every way an execution comes to be (BACKFILL and REPLAY were missing: a new user's trial).
TRIGGERS: tuple[str, ...] = choices(ExecutionTrigger)
PAGE_SIZE = 20
MAX_PAGE = 1_000_000
DATE_RULE = "must be a date as YYYY-MM-DD"


@dataclass(frozen=True)
class HistoryFilter:
    """``start``/``end``: the UTC range [from's midnight, the day after to's midnight) in
    the task's zone; ``errors`` by field name for what could not be read (then ignored)."""

    status: str = ""
    trigger: str = ""
    from_date: str = ""
    to_date: str = ""
    page: int = 1
    start: datetime | None = None
    end: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def query(self, page: int | None = None) -> str:
        """The filter as a query string, on ``page`` (default: this one)."""
        values = {"status": self.status, "trigger": self.trigger, "from": self.from_date,
                  "to": self.to_date, "page": str(page or self.page)}
        return urlencode({k: v for k, v in values.items() if v})


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def read_filter(
    *, status: str, trigger: str, from_date: str, to_date: str, page: int, zone: str
) -> HistoryFilter:
    """The filter from the page's parameters; unknown statuses and triggers mean all."""
    errors: dict[str, str] = {}
    tz = load_zone(zone)
    start = end = None
    from_date, to_date = from_date.strip()[:10], to_date.strip()[:10]
    if from_date:
        day = _day(from_date)
        if day is None:
            errors["from"] = DATE_RULE
        else:
            start = datetime.combine(day, time(), tz)
    if to_date:
        day = _day(to_date)
        if day is None:
            errors["to"] = DATE_RULE
        else:
            end = datetime.combine(day + timedelta(days=1), time(), tz)
    if start is not None and end is not None and end <= start:
        errors["to"] = "must be on or after 'from'"
        end = None
    return HistoryFilter(
        status=status if status in STATUSES else "",
        trigger=trigger if trigger in TRIGGERS else "",
        from_date=from_date, to_date=to_date, page=min(max(page, 1), MAX_PAGE),
        start=start, end=end, errors=errors,
    )
