"""Public holidays and make-up working days from the ``holidays`` library (python-holidays).

One year of one country (and subdivision) at a time, cached: the library builds a year on
demand, and the engine asks about the same few years again and again. Names are asked for
in English where the library has them (``language="en_US"``), so that history and previews
read the same whoever wrote the calendar.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from apicron.domain.calendars import register_holiday_check
from apicron.domain.errors import InvalidInput

_LANGUAGE = "en_US"


def check_holiday_source(country: str, subdivision: str | None, field: str = "holidays") -> None:
    """InvalidInput naming ``holidays.country`` or ``holidays.subdivision`` when the
    library does not know the country, or the subdivision in it."""
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise InvalidInput(
            f"is not a country the holidays library knows (got {country!r}); use an "
            "ISO 3166-1 alpha-2 code such as DE, FR, US, CN",
            field=f"{field}.country",
        )
    if subdivision is None:
        return
    known = supported[country]
    if subdivision not in known:
        shown = ", ".join(known[:40]) + (" …" if len(known) > 40 else "")
        raise InvalidInput(
            f"is not a subdivision of {country} the holidays library knows (got "
            f"{subdivision!r}); " + (f"known: {shown}" if known else f"{country} has none"),
            field=f"{field}.subdivision",
        )


register_holiday_check(check_holiday_source)


@lru_cache(maxsize=512)
def year_of(country: str, subdivision: str | None, year: int) -> YearHolidays:
    """The holidays and make-up working days of one year (a checked country)."""
    entity = holidays.country_holidays(country, subdiv=subdivision, years=year)
    language = _LANGUAGE if _LANGUAGE in entity.supported_languages else None
    if language is not None:
        entity = holidays.country_holidays(country, subdiv=subdivision, years=year,
                                           language=language)
    names = {day: "; ".join(entity.get_list(day)) for day in entity if day.year == year}
    # Weekend days made working days around a holiday (China's 调休); the attribute is
    # filled per year asked for, and may hold other years' too.
    workdays = frozenset(d for d in getattr(entity, "weekend_workdays", ()) if d.year == year)
    return YearHolidays(names, workdays)


class YearHolidays:
    """``names``: holiday → its name(s); ``workdays``: the make-up working days."""

    __slots__ = ("names", "workdays")

    def __init__(self, names: dict[date, str], workdays: frozenset[date]):
        self.names = names
        self.workdays = workdays
