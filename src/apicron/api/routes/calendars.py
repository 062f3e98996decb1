from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.calendars import Calendar, CalendarCreate, CalendarUpdate
from apicron.domain.models import Page
from apicron.services import calendars

router = APIRouter(prefix="/v1/calendars", tags=["calendars"], responses=ERRORS)

_EXAMPLE = {
    "name": "bavaria_business_days",
    "description": "Bavarian working days, closed between Christmas and New Year",
    "exclude_dates": ["2027-12-24..2027-12-31"],
    "exclude_weekdays": ["SAT", "SUN"],
    "holidays": {"country": "DE", "subdivision": "BY"},
    "include_dates": [],
}


@router.post(
    "", status_code=201, operation_id="createCalendar", summary="Create a business calendar",
    **needs(Permission.CALENDARS, extra=body_example(_EXAMPLE)),
)
def create_calendar(ctx: Ctx, spec: CalendarCreate) -> Calendar:
    """A calendar excludes days from the tasks that follow it (task field ``calendar_ids``),
    as days of each task's own zone: ``exclude_dates`` (``"2027-12-24"`` or the inclusive
    range ``"2027-12-24..2027-12-31"``), ``exclude_weekdays`` (``MON`` … ``SUN``) and the
    public holidays of ``holidays.country`` (ISO 3166-1 alpha-2) and optionally
    ``holidays.subdivision``, from the `holidays` library, whose make-up working days (e.g.
    China's) count as working days. ``include_dates`` are working days whatever else
    excludes them. On one calendar the first rule that applies wins: include_dates,
    exclude_dates, make-up working days, then holidays and weekdays. An unknown country or
    subdivision is a 400 naming ``holidays.country`` / ``holidays.subdivision``."""
    return calendars.create_calendar(ctx, spec)


@router.get(
    "", operation_id="listCalendars", summary="List business calendars",
    **needs(Permission.READ),
)
def list_calendars(
    ctx: Ctx,
    name: Annotated[str | None, Query(description="part of the name, any case")] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Calendar]:
    """Calendars in the order of their names, optionally those whose name contains the
    text given."""
    return calendars.list_calendars(ctx, name=name, offset=offset, limit=limit)


@router.get(
    "/{calendar_id}", operation_id="getCalendar", summary="Read a business calendar",
    **needs(Permission.READ),
)
def get_calendar(ctx: Ctx, calendar_id: str) -> Calendar:
    """The calendar with every entry it has."""
    return calendars.get_calendar(ctx, calendar_id)


@router.put(
    "/{calendar_id}", operation_id="updateCalendar",
    summary="Change a business calendar (only the fields given)",
    **needs(Permission.CALENDARS, extra=body_example({"include_dates": ["2027-12-28"]})),
)
def update_calendar(ctx: Ctx, calendar_id: str, patch: CalendarUpdate) -> Calendar:
    """Changes the fields given (``holidays: null`` removes the holiday source); the started
    tasks that follow the calendar are planned with it from now on (occurrences already
    planned keep their times)."""
    return calendars.update_calendar(ctx, calendar_id, patch)


@router.delete("/{calendar_id}", status_code=204, operation_id="deleteCalendar",
               summary="Delete a business calendar", **needs(Permission.CALENDARS))
def delete_calendar(ctx: Ctx, calendar_id: str) -> Response:
    """Refused (409 ``CALENDAR_IN_USE``, naming the tasks) while tasks follow it."""
    calendars.delete_calendar(ctx, calendar_id)
    return Response(status_code=204)
