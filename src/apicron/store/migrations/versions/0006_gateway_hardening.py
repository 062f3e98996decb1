"""instance params replay_guard and unsigned_payload; seen_signatures (the replay guard)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import apicron.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("replay_guard", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("unsigned_payload", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "seen_signatures",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("expires_at", apicron.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_seen_signatures")),
    )
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seen_signatures_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("seen_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_signatures_expires_at"))
    op.drop_table("seen_signatures")
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_column("unsigned_payload")
        batch_op.drop_column("replay_guard")
