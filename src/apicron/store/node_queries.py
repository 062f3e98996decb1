"""Queries for several processes on one database: node registry and change counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection

from apicron.domain.models import Node
from apicron.domain.vocabulary import UNFINISHED
from apicron.store.rows import NodeRow
from apicron.store.tables import change_counters, executions, nodes

CHANNEL = "apicron_changes"
COUNTERS = ("config", "schedule")
_UNFINISHED = UNFINISHED


class NodeQueries:
    connection: Connection

    # -- change counters ---------------------------------------------------------------------

    def bump_counter(self, name: str) -> None:
        """Count a change of kind ``name`` in this transaction; on PostgreSQL also NOTIFY,
        which the server delivers to every listener when (and only if) it commits.

        Taking the counter's row lock first also serialises management changes between
        processes, as SQLite's BEGIN IMMEDIATE does within one.
        """
        self.connection.execute(
            update(change_counters)
            .where(change_counters.c.name == name)
            .values(version=change_counters.c.version + 1)
        )
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": name},
            )

    def read_counters(self) -> dict[str, int]:
        rows = self.connection.execute(select(change_counters.c.name, change_counters.c.version))
        return {name: int(version) for name, version in rows}

    # -- nodes ---------------------------------------------------------------------------------

    def register_node(self, values: NodeRow) -> None:
        self.connection.execute(delete(nodes).where(nodes.c.id == values["id"]))
        self.connection.execute(insert(nodes).values(**values))

    def heartbeat(self, node: NodeRow, now: datetime) -> None:
        """Mark the node alive; re-register it if its row went (pruned while it was cut
        off from the database)."""
        found = self.connection.execute(
            update(nodes).where(nodes.c.id == node["id"]).values(heartbeat_at=now)
        ).rowcount
        if not found:
            self.connection.execute(insert(nodes).values(**{**node, "heartbeat_at": now}))

    def remove_node(self, node_id: str) -> None:
        self.connection.execute(delete(nodes).where(nodes.c.id == node_id))

    def list_nodes(self, alive_since: datetime) -> list[Node]:
        rows = self.connection.execute(
            select(nodes).order_by(nodes.c.started_at, nodes.c.id)
        ).mappings()
        return [
            Node.model_validate({**r, "alive": r["heartbeat_at"] >= alive_since}) for r in rows
        ]

    def prune_nodes(self, older_than: datetime) -> int:
        return self.connection.execute(
            delete(nodes).where(nodes.c.heartbeat_at < older_than)
        ).rowcount

    def release_node_work(self, node_id: str) -> int:
        """Graceful shutdown: hand back every unfinished execution this node holds, so
        another node takes it at once instead of after the lease."""
        return self.connection.execute(
            update(executions)
            .where(executions.c.claimed_by == node_id, executions.c.status.in_(_UNFINISHED))
            .values(claimed_by=None, lease_until=None)
        ).rowcount
