"""tasks.stop_reason, tasks.effective_wall and executions.note

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00

A task apicron stops by itself says why (its row cannot be read, its schedule cannot be
evaluated, it is past its end time); an execution says how it came to run as it did (run
late after downtime under misfire RUN_ONCE). A CALENDAR task keeps the wall time its
effective time was typed as, even when a DST gap skipped it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("effective_wall", sa.String(19), nullable=True))
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("effective_wall")
        batch_op.drop_column("stop_reason")
