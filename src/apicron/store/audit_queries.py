"""The audit log: appended to in the transaction of each change, read with filters, and
pruned by age only (mixed into :class:`apicron.store.store.Queries`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from apicron.domain.accounts import AuditEntry
from apicron.store.records import NewAuditEntry
from apicron.store.tables import audit_log


class AuditQueries:
    connection: Connection

    def insert_audit(self, entry: NewAuditEntry) -> None:
        self.connection.execute(insert(audit_log).values(**asdict(entry)))

    def list_audit(
        self,
        *,
        actor: str | None,
        resource_type: str | None,
        resource_id: str | None,
        action: str | None,
        start: datetime | None,
        end: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[AuditEntry]]:
        """Newest first; ``start`` inclusive, ``end`` exclusive."""
        a = audit_log.c
        statement = select(audit_log)
        for column, value in ((a.actor, actor), (a.resource_type, resource_type),
                              (a.resource_id, resource_id), (a.action, action)):
            if value:
                statement = statement.where(column == value)
        if start is not None:
            statement = statement.where(a.at >= start)
        if end is not None:
            statement = statement.where(a.at < end)
        total = self.connection.execute(
            select(func.count()).select_from(statement.subquery())
        ).scalar_one()
        rows = self.connection.execute(
            statement.order_by(a.at.desc(), a.id.desc()).offset(offset).limit(limit)
        ).mappings()
        return total, [AuditEntry.model_validate(dict(r)) for r in rows]

    def prune_audit(self, older_than: datetime) -> int:
        return self.connection.execute(
            delete(audit_log).where(audit_log.c.at < older_than)
        ).rowcount
