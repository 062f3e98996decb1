"""The flow every console edit page shares (apps, API groups, APIs; issue 15): fetch the
record, save the edit through its service, and either go back with what was saved or show
the form again with the service's message at its field (nothing saved then)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.responses import RedirectResponse

from apicron.console.sessions import Session
from apicron.console.web import Answer, back
from apicron.domain.errors import ApicronError

Record = TypeVar("Record")


def loaded(session: Session, fetch: Callable[[], Record], back_to: str
           ) -> Record | RedirectResponse:
    """``fetch()``'s record, or (when it raises, e.g. an unknown id) a redirect to
    ``back_to`` with the error flashed."""
    try:
        return fetch()
    except ApicronError as error:
        session.flash("error", str(error))
        return back(back_to)


def save_edit(
    session: Session, back_to: str, fetch: Callable[[], Record],
    save: Callable[[Record], str], form_again: Callable[[Record, ApicronError], Answer],
) -> Answer:
    """Fetch the record, then ``save(record)`` (which returns the message to flash) and go
    back to ``back_to``; a refused save answers ``form_again(record, error)``."""
    record = loaded(session, fetch, back_to)
    if isinstance(record, RedirectResponse):
        return record
    try:
        message = save(record)
    except ApicronError as error:
        return form_again(record, error)
    session.flash("ok", message)
    return back(back_to)
