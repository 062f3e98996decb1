"""Business calendars in the console (issue 18): list, create, edit and delete, through the
same services and messages as REST ``/v1/calendars``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from apicron.console.web import (
    PREFIX,
    Answer,
    Ctx,
    Form,
    FormDep,
    SessionDep,
    act,
    back,
    refused,
    render,
)
from apicron.domain.calendars import WEEKDAYS, Calendar, CalendarCreate, CalendarUpdate
from apicron.domain.errors import ApicronError
from apicron.domain.validation import validate
from apicron.services import calendars

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ALL = 500
HOME = f"{PREFIX}/calendars"
# The form's keys; a problem's field ("exclude_dates[2]", "holidays.country") is shown at
# the key it starts with.
FIELDS = ("name", "description", "exclude_weekdays", "exclude_dates", "include_dates",
          "holidays.country", "holidays.subdivision", "holidays")


def _entries(text: str) -> list[str]:
    """Dates and ranges typed one a line or separated by commas."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def calendar_data(form: Form) -> dict[str, Any]:
    """The posted form as a calendar's fields (``CalendarCreate``/``CalendarUpdate`` input:
    every field given, so an edit replaces them all; no country: no holidays)."""
    country = form.get("holidays_country").strip()
    subdivision = form.get("holidays_subdivision").strip()
    return {
        "name": form.get("name").strip(),
        "description": form.get("description"),
        "exclude_weekdays": form.getlist("exclude_weekdays"),
        "exclude_dates": _entries(form.get("exclude_dates")),
        "include_dates": _entries(form.get("include_dates")),
        "holidays": {"country": country, "subdivision": subdivision or None}
        if country or subdivision else None,
    }


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """A calendar's fields as the form shows them again."""
    holidays = data.get("holidays") or {}
    return {
        "name": data.get("name", ""), "description": data.get("description", ""),
        "exclude_weekdays": list(data.get("exclude_weekdays", [])),
        "exclude_dates": "\n".join(data.get("exclude_dates", [])),
        "include_dates": "\n".join(data.get("include_dates", [])),
        "holidays_country": holidays.get("country") or "",
        "holidays_subdivision": holidays.get("subdivision") or "",
    }


def placed(error: ApicronError) -> dict[str, str]:
    """Every problem of ``error`` at the form key that shows it (``form``: the top)."""
    shown: dict[str, str] = {"form": str(error)}
    for problem in error.problems:
        key = next((f for f in FIELDS if problem.field.startswith(f)), "form")
        key = key.replace(".", "_")
        if key != "form":
            shown[key] = f"{shown[key]}; {problem.rule}" if key in shown else problem.rule
    return shown


def _form_page(request: Request, session: SessionDep, values: dict[str, Any],
               errors: dict[str, str], calendar_id: str | None = None,
               status: int = 200) -> HTMLResponse:
    return render(request, session, "calendar_form.html", http_status=status, nav="calendars",
                  values=values, errors=errors, calendar_id=calendar_id, weekdays=WEEKDAYS)


@router.get("/calendars")
def calendars_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    page = calendars.list_calendars(ctx, name=None, offset=0, limit=ALL)
    return render(request, session, "calendars.html", nav="calendars", calendars=page.items,
                  total=page.total, summary=summary)


def summary(calendar: Calendar) -> list[str]:
    """What the calendar excludes and includes, in short phrases for its row."""
    parts = []
    if calendar.exclude_weekdays:
        parts.append("excludes " + ", ".join(calendar.exclude_weekdays))
    if calendar.holidays:
        where = calendar.holidays.country + (f"-{calendar.holidays.subdivision}"
                                             if calendar.holidays.subdivision else "")
        parts.append(f"public holidays of {where}")
    if calendar.exclude_dates:
        parts.append("excludes " + ", ".join(calendar.exclude_dates[:5])
                     + (f" and {len(calendar.exclude_dates) - 5} more"
                        if len(calendar.exclude_dates) > 5 else ""))
    if calendar.include_dates:
        parts.append("works on " + ", ".join(calendar.include_dates[:5])
                     + (f" and {len(calendar.include_dates) - 5} more"
                        if len(calendar.include_dates) > 5 else ""))
    return parts


@router.get("/calendars/new")
def new_calendar_page(request: Request, session: SessionDep) -> Answer:
    if away := refused(session, "CALENDARS", HOME):
        return away
    return _form_page(request, session, form_values({}), {})


@router.post("/calendars")
def create_calendar(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    if away := refused(session, "CALENDARS", HOME):
        return away
    data = calendar_data(form)
    try:
        created = calendars.create_calendar(ctx, validate(CalendarCreate, data))
    except ApicronError as error:
        return _form_page(request, session, form_values(data), placed(error),
                          status=error.status)
    session.flash("ok", f"Calendar {created.name} created.")
    return back(HOME)


@router.get("/calendars/{calendar_id}/edit")
def edit_calendar_page(request: Request, session: SessionDep, ctx: Ctx,
                       calendar_id: str) -> Answer:
    if away := refused(session, "CALENDARS", HOME):
        return away
    try:
        calendar = calendars.get_calendar(ctx, calendar_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(HOME)
    return _form_page(request, session, form_values(calendar.model_dump(mode="json")), {},
                      calendar_id)


@router.post("/calendars/{calendar_id}/edit")
def update_calendar(request: Request, session: SessionDep, form: FormDep, ctx: Ctx,
                    calendar_id: str) -> Answer:
    if away := refused(session, "CALENDARS", HOME):
        return away
    data = calendar_data(form)
    try:
        saved = calendars.update_calendar(ctx, calendar_id, validate(CalendarUpdate, data))
    except ApicronError as error:
        return _form_page(request, session, form_values(data), placed(error), calendar_id,
                          error.status)
    session.flash("ok", f"Calendar {saved.name} saved.")
    return back(HOME)


@router.post("/calendars/{calendar_id}/delete")
def delete_calendar(calendar_id: str, session: SessionDep, _form: FormDep,
                    ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        name = calendars.get_calendar(ctx, calendar_id).name
        calendars.delete_calendar(ctx, calendar_id)
        return f"Calendar {name} deleted."

    return act(session, HOME, delete, "Not deleted: ")
