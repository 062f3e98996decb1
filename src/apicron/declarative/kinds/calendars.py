"""``kind: Calendar``: a business calendar (issue 18), by name, with every field of
``POST /v1/calendars``. Tasks name the calendars they follow by name (``calendars:
[name, …]`` in a Task document), so calendars are applied before tasks and pruned after
them (a calendar a task still follows cannot be deleted: the server's 409)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apicron.client import Calendar, CalendarCreate, CalendarUpdate, Client
from apicron.declarative.documents import Document
from apicron.declarative.kinds.base import (
    Declared,
    Kind,
    Planning,
    Step,
    World,
    detail_lines,
    differences,
    split_document,
)
from apicron.domain.calendars import unique_weekdays
from apicron.domain.validation import validate

# The fields a document may give besides the name, as POST /v1/calendars names them.
FIELDS = ("description", "exclude_dates", "exclude_weekdays", "holidays", "include_dates")


class CalendarKind(Kind[CalendarCreate, Calendar]):
    """``{kind: Calendar, name, description, exclude_dates, exclude_weekdays, holidays:
    {country, subdivision}, include_dates}``."""

    name = "Calendar"

    def fetch(self, client: Client, world: World) -> dict[str, Calendar]:
        return {calendar.name: calendar for calendar in client.iter_calendars()}

    def object_id(self, record: Calendar) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[CalendarCreate]]:
        fields, _, _ = split_document(document, ())
        spec = validate(CalendarCreate, fields)
        return [Declared(document, spec, spec.name)]

    @staticmethod
    def _desired(spec: CalendarCreate) -> dict[str, Any]:
        # As the server stores it: weekdays in week order, once each.
        desired = spec.model_dump(mode="json", include=set(FIELDS))
        desired["exclude_weekdays"] = unique_weekdays(spec.exclude_weekdays)
        if spec.holidays is not None:
            desired["holidays"] = {"subdivision": None, **desired["holidays"]}
        return desired

    def changes(self, declared: Declared[CalendarCreate], current: Calendar | None,
                planning: Planning) -> list[Step]:
        spec, key, where = declared.spec, declared.key, declared.document.where()
        if current is None:
            def create(client: Client, world: World) -> None:
                world.register(self.name, key, client.create_calendar(spec).id)

            return [Step("create", self.name, key, where, create)]
        now = current.model_dump(mode="json", include=set(FIELDS))
        changed = differences(now, self._desired(spec))
        if not changed:
            return []

        def update(client: Client, world: World) -> None:
            client.update_calendar(current.id, validate(CalendarUpdate, changed))

        return [Step("update", self.name, key, where, update, detail_lines(now, changed))]

    def removal(self, key: str, current: Calendar, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            client.delete_calendar(current.id)

        return [Step("delete", self.name, key, f"Calendar {key!r} (not in the files)", delete)]

    def export(self, records: Iterable[Calendar], world: World) -> list[dict[str, Any]]:
        documents = []
        for calendar in sorted(records, key=lambda c: c.name):
            document: dict[str, Any] = {"kind": self.name, "name": calendar.name}
            values = calendar.model_dump(mode="json", include=set(FIELDS))
            for name in FIELDS:
                value = values[name]
                if value not in ("", [], None):
                    if name == "holidays" and value.get("subdivision") is None:
                        value = {"country": value["country"]}
                    document[name] = value
            documents.append(document)
        return documents
