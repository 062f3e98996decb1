"""The schema. Alembic migrations in ``migrations/versions`` must produce exactly this
(a test compares them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from apicron.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 32  # uuid4().hex

instance = Table(
    "instance",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("app_route", Boolean, nullable=False),
    Column("app_secret", Boolean, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

apps = Table(
    "apps",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", String(255), nullable=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("secret_encrypted", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

api_groups = Table(
    "api_groups",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", String(255), nullable=False),
    Column("app_id", String(ID), ForeignKey("apps.id"), nullable=False, index=True),
    Column("domain", String(255), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

apis = Table(
    "apis",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("group_id", String(ID), ForeignKey("api_groups.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("description", String(255), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("auth_type", String(8), nullable=False),
    Column("backend_url", Text, nullable=False),
    Column("backend_timeout_ms", Integer, nullable=False),
    # The published snapshot: the gateway and the scheduler use only these columns.
    Column("published_snapshot", JSON, nullable=True),
    Column("published_at", UTCDateTime, nullable=True),
    # "METHOD /normalised/{}" while published, NULL otherwise: unique among published APIs.
    Column("published_route", String(1100), nullable=True, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("group_id", "name"),
)

app_auths = Table(
    "app_auths",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("app_id", String(ID), ForeignKey("apps.id"), nullable=False),
    Column("api_id", String(ID), ForeignKey("apis.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("app_id", "api_id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("app_id", String(ID), ForeignKey("apps.id"), nullable=False, index=True),
    Column("description", String(255), nullable=False),
    Column("effective_time", UTCDateTime, nullable=False),
    Column("end_time", UTCDateTime, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("trigger_type", String(16), nullable=False),
    Column("cron_expression", String(256), nullable=True),
    Column("interval_unit", String(16), nullable=True),
    Column("interval_value", Integer, nullable=True),
    Column("max_retries", Integer, nullable=False),
    Column("api_id", String(ID), ForeignKey("apis.id"), nullable=False, index=True),
    Column("request", JSON, nullable=False),
    Column("misfire_policy", String(16), nullable=False),
    Column("overlap_policy", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    # NULL unless STARTED; the engine claims due tasks through this index.
    Column("next_fire_time", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "next_fire_time"),
    Index(None, "status", "created_at"),
)
