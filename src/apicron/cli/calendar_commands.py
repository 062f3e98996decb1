"""``apicron calendar``: business calendars, the days tasks that follow one do not fire on
(issue 18)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import (
    DEFAULT_LIMIT,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
    YesOpt,
    given,
    model,
    require_changes,
)
from apicron.cli.lookup import CALENDARS, resolve
from apicron.cli.output import note, page_footer, show, table, usage

cli = typer.Typer(help="Business calendars: days tasks do not fire on (holidays, dates, "
                       "weekdays).", no_args_is_help=True)

CalendarArg = Annotated[str, typer.Argument(metavar="CALENDAR",
                                            help="The calendar's id or name.")]
ExcludeDateOpt = Annotated[list[str] | None, typer.Option(
    "--exclude-date", help='A date "2027-12-24" or an inclusive range '
                           '"2027-12-24..2027-12-31" (repeat for more).')]
IncludeDateOpt = Annotated[list[str] | None, typer.Option(
    "--include-date", help="A working day (or range) whatever else excludes it, e.g. a "
                           "make-up working day (repeat for more).")]
WeekdayOpt = Annotated[list[str] | None, typer.Option(
    "--exclude-weekday", help="MON … SUN; repeat, or separate with commas (SAT,SUN).")]
CountryOpt = Annotated[str | None, typer.Option(
    "--country", help="Exclude the public holidays of this country (ISO 3166-1 alpha-2, "
                      "e.g. DE), from the holidays library.")]
SubdivisionOpt = Annotated[str | None, typer.Option(
    "--subdivision", help="With --country: one of its subdivisions (e.g. BY).")]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]


def _weekdays(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [part.strip().upper() for value in values for part in value.split(",")
            if part.strip()]


def _holidays(country: str | None, subdivision: str | None) -> dict[str, Any] | None:
    if country is None:
        if subdivision is not None:
            usage("--subdivision", "needs --country")
        return None
    return {"country": country.upper(), "subdivision": subdivision}


@cli.command("create")
def calendar_create(
    name: NameArg,
    exclude_date: ExcludeDateOpt = None,
    exclude_weekday: WeekdayOpt = None,
    country: CountryOpt = None,
    subdivision: SubdivisionOpt = None,
    include_date: IncludeDateOpt = None,
    description: DescriptionOpt = None,
) -> None:
    """Create a calendar; tasks follow it with `apicron task create --calendar NAME`."""
    from apicron.client import CalendarCreate

    spec = model(CalendarCreate, given(
        name=name, description=description, exclude_dates=exclude_date,
        exclude_weekdays=_weekdays(exclude_weekday),
        holidays=_holidays(country, subdivision), include_dates=include_date))
    show(connect().create_calendar(spec))


@cli.command("list")
def calendar_list(
    name: Annotated[str | None, typer.Option("--name", help="Part of the name.")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List calendars by name."""
    page = connect().list_calendars(name=name, offset=offset, limit=limit)
    if as_json:
        show(page)
        return
    rows = []
    for c in page.items:
        holidays = c.holidays
        rows.append({
            "name": c.name, "id": c.id,
            "holidays": "" if holidays is None else holidays.country + (
                f"-{holidays.subdivision}" if holidays.subdivision else ""),
            "weekdays": ",".join(c.exclude_weekdays),
            "dates": len(c.exclude_dates), "include": len(c.include_dates),
        })
    table(rows, ["name", "id", "holidays", "weekdays", "dates", "include"])
    page_footer(page.total, len(page.items), offset)


@cli.command("show")
def calendar_show(calendar: CalendarArg) -> None:
    """Print a calendar as JSON."""
    show(resolve(connect(), CALENDARS, calendar, "CALENDAR"))


@cli.command("update")
def calendar_update(
    calendar: CalendarArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    exclude_date: ExcludeDateOpt = None,
    exclude_weekday: WeekdayOpt = None,
    country: CountryOpt = None,
    subdivision: SubdivisionOpt = None,
    include_date: IncludeDateOpt = None,
    description: DescriptionOpt = None,
    no_exclude_dates: Annotated[bool, typer.Option(
        "--no-exclude-dates", help="Remove every excluded date.")] = False,
    no_exclude_weekdays: Annotated[bool, typer.Option(
        "--no-exclude-weekdays", help="Remove every excluded weekday.")] = False,
    no_holidays: Annotated[bool, typer.Option(
        "--no-holidays", help="Remove the holiday country.")] = False,
    no_include_dates: Annotated[bool, typer.Option(
        "--no-include-dates", help="Remove every included date.")] = False,
) -> None:
    """Change the given fields; a list given (--exclude-date…) replaces the stored one."""
    from apicron.client import CalendarUpdate

    fields = given(name=name, description=description, exclude_dates=exclude_date,
                   exclude_weekdays=_weekdays(exclude_weekday),
                   holidays=_holidays(country, subdivision), include_dates=include_date)
    for flag, option, field, empty in (
        (no_exclude_dates, "--no-exclude-dates", "exclude_dates", []),
        (no_exclude_weekdays, "--no-exclude-weekdays", "exclude_weekdays", []),
        (no_holidays, "--no-holidays", "holidays", None),
        (no_include_dates, "--no-include-dates", "include_dates", []),
    ):
        if flag:
            if field in fields:
                usage(option, f"contradicts the {field} given")
            fields[field] = empty
    require_changes(fields)
    client = connect()
    found = resolve(client, CALENDARS, calendar, "CALENDAR")
    show(client.update_calendar(found.id, model(CalendarUpdate, fields)))


@cli.command("delete")
def calendar_delete(calendar: CalendarArg, yes: YesOpt = False) -> None:
    """Delete a calendar (refused while tasks follow it)."""
    client = connect()
    found = resolve(client, CALENDARS, calendar, "CALENDAR")
    if not yes:
        typer.confirm(f"Delete calendar {found.name!r}?", abort=True, err=True)
    client.delete_calendar(found.id)
    note(f"deleted calendar {found.name!r} ({found.id})")
