"""Business calendars: ``/v1/calendars`` and the task fields ``calendar_ids`` and
``calendar_policy`` (issue 18; DESIGN.md, "Contract additions (second round)").

A calendar says which days a task may fire on, as days of the task's own zone:

- ``exclude_dates``: dates (``"2027-12-24"``) and inclusive ranges
  (``"2027-12-24..2027-12-31"``);
- ``exclude_weekdays``: ``MON`` … ``SUN``;
- ``holidays``: the public holidays of a country (ISO 3166-1 alpha-2, e.g. ``DE``) and
  optionally one of its subdivisions (``BY``), from the ``holidays`` library, together with
  the make-up working days the library knows (China's weekend workdays, ``CN``);
- ``include_dates``: dates and ranges that are working days whatever else excludes them.

Which of them wins on a day (first that applies): ``include_dates``, then ``exclude_dates``,
then the library's make-up working days (included), then holidays and weekdays (excluded).
A task that follows several calendars fires on a day only when none of them excludes it.

This module is the shape and the value rules (shared with the client); which country and
subdivision exist is the server's to check (:mod:`apicron.calendars.holiday_source`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr, model_validator

from apicron.domain.impossible_dates import impossible
from apicron.domain.models import (
    Description,
    Input,
    Name,
    Record,
)
from apicron.domain.validation import reported_to_pydantic
from apicron.domain.vocabulary import CalendarPolicy, Weekday, choices

WEEKDAYS: tuple[Weekday, ...] = choices(Weekday)
CALENDAR_POLICIES: tuple[CalendarPolicy, ...] = choices(CalendarPolicy)

# Bounds that keep a calendar a calendar (and its evaluation cheap): entries per list, days
# per range (calendars per task: MAX_TASK_CALENDARS).
MAX_ENTRIES = 1000
MAX_RANGE_DAYS = 3660
FIRST_YEAR, LAST_YEAR = 1970, 8999
RANGE_SEPARATOR = ".."
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY = re.compile(r"[A-Z]{2,3}")
ENTRY_RULE = (
    'must be a date "YYYY-MM-DD" or an inclusive range "YYYY-MM-DD..YYYY-MM-DD"'
)


def _day(text: str) -> date:
    if not _DATE.fullmatch(text):
        raise ValueError(f"{ENTRY_RULE} (got {text!r:.40})")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        reason = impossible(text) or f"{text!r} is not a date of the calendar"
        raise ValueError(reason) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"must be a date between {FIRST_YEAR} and {LAST_YEAR} (got {text!r})")
    return day


def parse_entry(text: str) -> tuple[date, date]:
    """``"2027-12-24"`` → (that day, that day); ``"2027-12-24..2027-12-31"`` → (first, last).

    Raises ValueError with the rule (the last day before the first, a range longer than
    ``MAX_RANGE_DAYS``, anything but those two forms)."""
    text = text.strip()
    first_text, separator, last_text = text.partition(RANGE_SEPARATOR)
    first = _day(first_text)
    last = _day(last_text) if separator else first
    if last < first:
        raise ValueError(f"the range {text!r} ends before it starts")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValueError(f"the range {text!r} is longer than {MAX_RANGE_DAYS} days")
    return first, last


def _entry(text: str) -> str:
    first, last = parse_entry(text)
    # Normalised: one form per meaning, so export then apply finds no change.
    return first.isoformat() if first == last else f"{first}{RANGE_SEPARATOR}{last}"


def _country(text: str) -> str:
    if not _COUNTRY.fullmatch(text):
        raise ValueError(
            f"must be an ISO 3166-1 alpha-2 country code in capitals, e.g. DE (got {text!r:.20})"
        )
    return text


DateEntry = Annotated[
    StrictStr,
    AfterValidator(_entry),
    Field(examples=["2027-12-24", "2027-12-24..2027-12-31"], description=ENTRY_RULE),
]
DateEntries = Annotated[list[DateEntry], Field(max_length=MAX_ENTRIES)]


class HolidaySource(Input):
    """Public holidays from the ``holidays`` library: a country and optionally one of its
    subdivisions (their codes as the library lists them: ``DE`` + ``BY``, ``US`` + ``CA``)."""

    country: Annotated[StrictStr, AfterValidator(_country)] = Field(
        description="ISO 3166-1 alpha-2 country code", examples=["DE"])
    subdivision: StrictStr | None = Field(
        default=None, description="a subdivision code of the country, or null",
        examples=["BY"])

    @model_validator(mode="after")
    def _known(self) -> HolidaySource:
        # Checked with the other fields, so that a calendar's problems come in one answer.
        if _holiday_check is not None:
            with reported_to_pydantic():
                _holiday_check(self.country, self.subdivision)
        return self


# Whether the ``holidays`` library knows a country and subdivision; the library is a server
# dependency, so the server registers the check (apicron.calendars.holiday_source) and a
# client-only install checks the shape alone (the server says the rest).
_holiday_check: Callable[[str, str | None], None] | None = None


def register_holiday_check(check: Callable[[str, str | None], None]) -> None:
    """Make ``check(country, subdivision)`` (raising InvalidInput naming
    ``holidays.country`` or ``holidays.subdivision``) part of validating a HolidaySource."""
    global _holiday_check
    _holiday_check = check


class CalendarCreate(Input):
    name: Name
    description: Description = ""
    exclude_dates: DateEntries = Field(default_factory=list)
    exclude_weekdays: Annotated[list[Weekday], Field(max_length=7)] = Field(
        default_factory=list)
    holidays: HolidaySource | None = None
    include_dates: DateEntries = Field(default_factory=list)


class CalendarUpdate(Input):
    """Only the fields given change; ``holidays: null`` removes the holiday source."""

    name: Name | None = None
    description: Description | None = None
    exclude_dates: DateEntries | None = None
    exclude_weekdays: Annotated[list[Weekday], Field(max_length=7)] | None = None
    holidays: HolidaySource | None = None
    include_dates: DateEntries | None = None


class Calendar(Record):
    id: str
    name: str
    description: str
    exclude_dates: list[str]
    exclude_weekdays: list[Weekday]
    holidays: HolidaySource | None
    include_dates: list[str]
    created_at: datetime
    updated_at: datetime


def unique_weekdays(days: list[Weekday]) -> list[Weekday]:
    """In week order, once each (normalised, so export then apply finds no change)."""
    return [day for day in WEEKDAYS if day in days]

