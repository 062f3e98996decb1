"""The business calendars' queries (issue 18): CRUD, and the tasks that follow one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from apicron.domain.calendars import Calendar
from apicron.domain.errors import Conflict
from apicron.domain.models import StoredTask
from apicron.store.rows import CalendarChanges, CalendarRow
from apicron.store.tables import calendars, tasks


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class CalendarQueries:
    connection: Connection

    def insert_calendar(self, values: CalendarRow) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(calendars).values(**values))
        except IntegrityError:
            raise Conflict(f"a calendar named {values['name']!r} already exists",
                           field="name") from None

    def update_calendar(self, calendar_id: str, values: CalendarChanges) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(
                    update(calendars).where(calendars.c.id == calendar_id).values(**values))
        except IntegrityError:
            raise Conflict(f"a calendar named {values.get('name')!r} already exists",
                           field="name") from None

    def delete_calendar(self, calendar_id: str) -> None:
        self.connection.execute(delete(calendars).where(calendars.c.id == calendar_id))

    def get_calendar(self, calendar_id: str) -> Calendar | None:
        row = self.connection.execute(
            select(calendars).where(calendars.c.id == calendar_id)).mappings().first()
        return None if row is None else Calendar.model_validate(dict(row))

    def list_calendars(
        self, *, name: str | None, offset: int, limit: int
    ) -> tuple[int, list[Calendar]]:
        statement = select(calendars)
        if name:
            statement = statement.where(
                func.lower(calendars.c.name).like(_like(name), escape="\\"))
        total = self.connection.execute(
            select(func.count()).select_from(statement.subquery())).scalar_one()
        rows = self.connection.execute(
            statement.order_by(calendars.c.name, calendars.c.id).offset(offset).limit(limit)
        ).mappings()
        return total, [Calendar.model_validate(dict(row)) for row in rows]

    def calendars_by_id(self, calendar_ids: Sequence[str]) -> dict[str, Calendar]:
        """The calendars among ``calendar_ids`` that exist, by id."""
        if not calendar_ids:
            return {}
        rows = self.connection.execute(
            select(calendars).where(calendars.c.id.in_(list(set(calendar_ids))))).mappings()
        return {row["id"]: Calendar.model_validate(dict(row)) for row in rows}

    def started_tasks_following(self, calendar_id: str) -> list[StoredTask]:
        """The STARTED tasks whose ``calendar_ids`` name ``calendar_id``."""
        rows = self.connection.execute(
            select(tasks).where(tasks.c.status == "STARTED").order_by(tasks.c.name)
        ).mappings()
        return [StoredTask.model_validate(dict(row)) for row in rows
                if isinstance(row["calendar_ids"], list) and calendar_id in row["calendar_ids"]]

    def tasks_following(self, calendar_id: str) -> list[str]:
        """The names of the tasks whose ``calendar_ids`` name ``calendar_id``, by name."""
        rows = self.connection.execute(
            select(tasks.c.name, tasks.c.calendar_ids).order_by(tasks.c.name))
        return [name for name, ids in rows if isinstance(ids, list) and calendar_id in ids]
