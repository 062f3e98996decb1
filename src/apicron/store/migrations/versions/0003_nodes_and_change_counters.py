"""nodes, change counters and attempts.node_id (several processes on one database)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import apicron.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("started_at", apicron.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", apicron.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
    )
    counters = op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counters")),
    )
    op.bulk_insert(counters, [{"name": "config", "version": 0}, {"name": "schedule", "version": 0}])
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("node_id")
    op.drop_table("change_counters")
    op.drop_table("nodes")
