"""executions.replay_of, executions.sequence_id and one unfinished backfill per occurrence

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:00:00

Issue 18. A replay is a new execution (trigger REPLAY) that names the one it re-runs; the
executions of one SEQUENTIAL backfill share a sequence id, so that the engine runs them
one at a time even across a restart. A partial unique index keeps two backfills from
queueing the same occurrence twice while it is still to run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BACKFILL_UNFINISHED = "\"trigger\" = 'BACKFILL' AND status IN ('PENDING', 'RUNNING')"


def upgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replay_of", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("sequence_id", sa.String(32), nullable=True))
        batch_op.create_index(
            "uq_executions_backfill_unfinished",
            ["task_id", "scheduled_at"],
            unique=True,
            sqlite_where=sa.text(_BACKFILL_UNFINISHED),
            postgresql_where=sa.text(_BACKFILL_UNFINISHED),
        )


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_executions_backfill_unfinished",
            sqlite_where=sa.text(_BACKFILL_UNFINISHED),
            postgresql_where=sa.text(_BACKFILL_UNFINISHED),
        )
        batch_op.drop_column("sequence_id")
        batch_op.drop_column("replay_of")
