"""one-off tasks, jitter and per-task call policy (issue 18)

A task may fire once at run_at (trigger AT) and be kept COMPLETED or deleted after its run;
jitter spreads a task's fires over a window (the planned fire time is kept on the execution);
a task may set its own call timeout and retry backoff. The history of a task deleted after
its one-off run is kept: executions no longer reference tasks by a foreign key (the store
deletes a task's executions itself when a user deletes the task).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import apicron.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = apicron.store.types.UTCDateTime(timezone=True)
_SCHEDULE_ONLY = sa.text("\"trigger\" = 'SCHEDULE'")


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("after_completion", sa.String(16), nullable=False,
                                      server_default="KEEP"))
        batch_op.add_column(sa.Column("jitter_s", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("jitter_mode", sa.String(16), nullable=False,
                                      server_default="RANDOM"))
        batch_op.add_column(sa.Column("timeout_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retry_backoff_base_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retry_backoff_cap_ms", sa.Integer(), nullable=True))
    # SQLite rebuilds the table to drop the foreign key; the partial unique index (the last
    # guard against a double fire) is dropped and made again around it, so that it keeps
    # its WHERE clause whatever the reflection of partial indexes makes of it.
    op.drop_index("uq_executions_task_id_scheduled_at", table_name="executions")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_at", UTC, nullable=True))
        batch_op.drop_constraint("fk_executions_task_id_tasks", type_="foreignkey")
    op.create_index("uq_executions_task_id_scheduled_at", "executions",
                    ["task_id", "scheduled_at"], unique=True,
                    sqlite_where=_SCHEDULE_ONLY, postgresql_where=_SCHEDULE_ONLY)


def downgrade() -> None:
    # Executions of tasks deleted after their one-off run reference no task: dropped first,
    # or the foreign key could not be made again.
    op.execute("DELETE FROM executions WHERE task_id NOT IN (SELECT id FROM tasks)")
    op.drop_index("uq_executions_task_id_scheduled_at", table_name="executions")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_executions_task_id_tasks", "tasks", ["task_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.drop_column("planned_at")
    op.create_index("uq_executions_task_id_scheduled_at", "executions",
                    ["task_id", "scheduled_at"], unique=True,
                    sqlite_where=_SCHEDULE_ONLY, postgresql_where=_SCHEDULE_ONLY)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for column in ("retry_backoff_cap_ms", "retry_backoff_base_ms", "timeout_ms",
                       "jitter_mode", "jitter_s", "after_completion", "run_at"):
            batch_op.drop_column(column)
