"""business calendars (issue 18)

The calendars table, and each task's calendar_ids and calendar_policy. (The first paragraph
is one line: Alembic logs it at upgrade, and a log line must stay one line.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import apicron.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = apicron.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendars",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("exclude_dates", sa.JSON(), nullable=False),
        sa.Column("exclude_weekdays", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("include_dates", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_calendars_name")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar_ids", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("calendar_policy", sa.String(length=16), server_default=sa.text("'SKIP'"),
                      nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("calendar_policy")
        batch_op.drop_column("calendar_ids")
    op.drop_table("calendars")
