"""tasks.tags (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 16:00:00

A task's ``{"key": "value"}`` labels, one JSON object; filtered with the JSON operators of
each database (``tags ->> 'env'`` on PostgreSQL, ``json_extract`` on SQLite). The note a
user gives when stopping a task lives in ``tasks.stop_reason`` (0005), beside the reasons
apicron gives when it stops one by itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("tags")
