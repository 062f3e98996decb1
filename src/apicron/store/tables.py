"""The schema. Alembic migrations in ``migrations/versions`` must produce exactly this
(a test compares them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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
    false,
    text,
    true,
)

from apicron.store.types import NaiveDateTimeText, UTCDateTime

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
    Column("replay_guard", Boolean, nullable=False, server_default=false()),
    Column("unsigned_payload", Boolean, nullable=False, server_default=true()),
    # The alert rules of every task without its own (issue 14); NULL: none.
    Column("default_alerts", JSON(none_as_null=True), nullable=True),
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
    # Set while an engine plans the task's next occurrences (multi-node safety net).
    Column("claimed_until", UTCDateTime, nullable=True),
    # Why a STOPPED task stopped when apicron stopped it (past its end time, a schedule
    # that cannot be evaluated, a row that cannot be read); NULL when a user stopped it.
    Column("stop_reason", Text, nullable=True),
    # A CALENDAR task's effective time as typed without an offset (naive wall time text,
    # "2027-03-28T02:30:00"): the interval keeps it even when a DST gap skipped it.
    Column("effective_wall", NaiveDateTimeText, nullable=True),
    # Issue 14: success conditions (NULL: any 2xx) and alert rules (NULL: the instance's).
    Column("success", JSON(none_as_null=True), nullable=True),
    Column("alerts", JSON(none_as_null=True), nullable=True),
    # Issue 18 (migration 0009): a one-off task's instant (trigger AT) and what becomes of
    # the task after its run; jitter; the task's own call timeout and retry backoff (NULL:
    # the API's timeout, the engine's backoff).
    Column("run_at", UTCDateTime, nullable=True),
    Column("after_completion", String(16), nullable=False, server_default="KEEP"),
    Column("jitter_s", Integer, nullable=False, server_default="0"),
    Column("jitter_mode", String(16), nullable=False, server_default="RANDOM"),
    Column("timeout_ms", Integer, nullable=True),
    Column("retry_backoff_base_ms", Integer, nullable=True),
    Column("retry_backoff_cap_ms", Integer, nullable=True),
    # Issue 18: the business calendars the task follows (ids, in order) and what an
    # occurrence on an excluded day does (SKIP, NEXT, PREVIOUS).
    Column("calendar_ids", JSON, nullable=False, server_default=text("'[]'")),
    Column("calendar_policy", String(16), nullable=False, server_default=text("'SKIP'")),
    # Issue 18: {"key": "value"} labels (apicron.domain.tags).
    Column("tags", JSON, nullable=False, server_default=text("'{}'")),
    # The claim (status = 'STARTED' AND next_fire_time <= horizon ORDER BY next_fire_time)
    # reads this index alone, however many tasks are stored.
    Index(None, "status", "next_fire_time"),
    Index(None, "status", "created_at"),
)

_BACKFILL_UNFINISHED = "\"trigger\" = 'BACKFILL' AND status IN ('PENDING', 'RUNNING')"

executions = Table(
    "executions",
    metadata,
    Column("id", String(ID), primary_key=True),
    # No foreign key (migration 0009): the history of a task deleted after its one-off run
    # outlives it for the retention period; deleting a task deletes its executions itself.
    Column("task_id", String(ID), nullable=False),
    Column("scheduled_at", UTCDateTime, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("error_kind", String(16), nullable=True),
    Column("error_msg", Text, nullable=True),
    # The engine node working on it and until when; an expired lease is an orphan.
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # How the occurrence came to run as it did, e.g. late after downtime (misfire RUN_ONCE).
    Column("note", Text, nullable=True),
    # When the engine planned to fire it: the scheduled time plus the task's jitter.
    Column("planned_at", UTCDateTime, nullable=True),
    # Issue 18: the execution a REPLAY re-runs; the executions of one SEQUENTIAL backfill
    # share a sequence id (the engine runs them one at a time, in scheduled order).
    Column("replay_of", String(ID), nullable=True),
    Column("sequence_id", String(ID), nullable=True),
    Index(None, "task_id", "scheduled_at"),
    Index(None, "status", "lease_until"),
    # The last guard against a double fire: one scheduled execution per occurrence.
    Index(
        "uq_executions_task_id_scheduled_at",
        "task_id",
        "scheduled_at",
        unique=True,
        sqlite_where=text("\"trigger\" = 'SCHEDULE'"),
        postgresql_where=text("\"trigger\" = 'SCHEDULE'"),
    ),
    # Issue 18: a backfill never queues an occurrence twice while one is still to run (two
    # backfills over the same range at once queue it once).
    Index(
        "uq_executions_backfill_unfinished",
        "task_id",
        "scheduled_at",
        unique=True,
        sqlite_where=text(_BACKFILL_UNFINISHED),
        postgresql_where=text(_BACKFILL_UNFINISHED),
    ),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "execution_id",
        String(ID),
        ForeignKey("executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("error_kind", String(16), nullable=True),
    Column("error_msg", Text, nullable=True),
    Column("response_excerpt", Text, nullable=True),
    # The node that recorded it (several processes share the work).
    Column("node_id", String(64), nullable=True),
    UniqueConstraint("execution_id", "number"),
)

# Every running apicron process, for `apicron nodes` and to tell a live node from a dead
# one; a row is removed on graceful shutdown and goes stale when its process dies.
nodes = Table(
    "nodes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

# One counter per kind of change ("config": what the gateway caches; "schedule": what the
# engine plans). Bumped in the changing transaction; other processes poll it (and on
# PostgreSQL are woken by NOTIFY), so a change reaches every process without a restart.
change_counters = Table(
    "change_counters",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Signatures the gateway has accepted while the instance parameter replay_guard is on, kept
# until the request's X-Sdk-Date leaves the accepted window (then the date alone refuses
# it): a replay on any node of the instance finds the row.
seen_signatures = Table(
    "seen_signatures",
    metadata,
    Column("signature", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# --- alerts (issue 14) --------------------------------------------------------------------

# Notification channels. The URL (webhook or Apprise) and the webhook's signing secret are
# credentials: encrypted with APICRON_SECRET_KEY (store._ENCRYPTED), never shown; url_shown
# is the masked form the API answers with.
# Issue 18: business calendars (apicron.calendars); dates as ISO text, ranges as "a..b".
calendars = Table(
    "calendars",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", String(255), nullable=False),
    Column("exclude_dates", JSON, nullable=False),
    Column("exclude_weekdays", JSON, nullable=False),
    Column("holidays", JSON(none_as_null=True), nullable=True),
    Column("include_dates", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
channels = Table(
    "channels",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("description", String(255), nullable=False),
    Column("url_encrypted", Text, nullable=False),
    Column("url_shown", String(300), nullable=False),
    Column("secret_encrypted", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Where each task stands for its alert rules: the failures in a row, whether a failure
# alert is open (no recovery yet), when it last alerted, when it last succeeded. Written
# in the transaction that records the result that changes it.
alert_states = Table(
    "alert_states",
    metadata,
    Column("task_id", String(ID), ForeignKey("tasks.id", ondelete="CASCADE"),
           primary_key=True),
    Column("consecutive_failures", Integer, nullable=False),
    Column("alerting", Boolean, nullable=False),
    Column("last_failure_alert_at", UTCDateTime, nullable=True),
    Column("last_missed_alert_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("no_success_alert_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "alerting"),
)

# The outbox: one row per event and channel, inserted in the transaction of the result
# that caused it, delivered by a sender that claims rows like the engine claims
# executions (a lease; SKIP LOCKED on PostgreSQL). The row id is the event id receivers
# deduplicate on. Kept as history (GET /v1/alerts) after delivery; no foreign keys, so it
# outlives a deleted task or channel.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("task_id", String(ID), nullable=False),
    Column("task_name", String(64), nullable=False),
    Column("channel_id", String(ID), nullable=False),
    Column("channel_kind", String(16), nullable=False),
    Column("event", String(16), nullable=False),
    Column("execution_id", String(ID), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("message", Text, nullable=False),
    # The webhook body, frozen when the event happened (the execution as it was then).
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Index(None, "status", "next_attempt_at"),
    Index(None, "task_id", "created_at"),
    Index(None, "created_at"),
)

# --- users, tokens, console sessions, sign-in throttling, audit (migration 0008) ---------

# Local users of the management API and console (issue 16). The password is an Argon2id
# hash (NULL: the user signs in with API tokens only); the role is admin, operator or viewer.
users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Personal API tokens: only the SHA-256 of the token is kept (it is 256 random bits: a fast
# hash is as safe as a slow one, and every request looks it up by that hash).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column(
        "user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
        index=True,
    ),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    UniqueConstraint("user_id", "name"),
)

# Console sessions, in the database so that they survive restarts and serve every node.
# The id is the SHA-256 of the cookie's value; a root session has no user. A secret shown
# once on the next page (a new app secret or API token) waits here encrypted, for moments.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=True,
        index=True,
    ),
    Column("actor_kind", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("address", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("flashes", JSON, nullable=True),
    Column("reveal_encrypted", Text, nullable=True),
)

# Failed sign-ins per key ("user:<name>", "address:<ip>"), shared by every node: past the
# limit within the window the key is locked until ``locked_until``.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)

# Every change made through the REST API, the CLI or the console, written in the change's
# own transaction; append-only (only the retention pruning deletes, by age).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("token_name", String(64), nullable=True),
    Column("user_id", String(ID), nullable=True),
    Column("address", String(64), nullable=True),
    Column("action", String(32), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("resource_id", String(64), nullable=True),
    Column("resource_name", String(255), nullable=True),
    Column("changes", JSON, nullable=True),
    Index(None, "actor", "at"),
    Index(None, "resource_type", "at"),
)
