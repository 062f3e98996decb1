"""alerts (issue 14)

Success conditions and alert rules on tasks, default rules on the instance, channels, alert
states and the alert outbox. (The first paragraph is one line: Alembic logs it at upgrade,
and a log line must stay one line.)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import apicron.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = apicron.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_alerts", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("success", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("alerts", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("url_shown", sa.String(length=300), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_channels_name")),
    )
    op.create_table(
        "alert_states",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("alerting", sa.Boolean(), nullable=False),
        sa.Column("last_failure_alert_at", UTC, nullable=True),
        sa.Column("last_missed_alert_at", UTC, nullable=True),
        sa.Column("last_success_at", UTC, nullable=True),
        sa.Column("no_success_alert_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                                name=op.f("fk_alert_states_task_id_tasks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_alert_states")),
    )
    with op.batch_alter_table("alert_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_states_alerting"), ["alerting"], unique=False)
    op.create_table(
        "alert_events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("task_name", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("channel_kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("execution_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("next_attempt_at", UTC, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_events_status_next_attempt_at"),
                              ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_events_task_id_created_at"),
                              ["task_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_events_created_at"), ["created_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("alert_events")
    op.drop_table("alert_states")
    op.drop_table("channels")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("alerts")
        batch_op.drop_column("success")
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_column("default_alerts")
