"""Engine creation: SQLite tuned for a single writer, and the write-transaction mode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from apicron.domain.errors import ConfigurationError

WRITE_OPTION = "apicron_write"

# Errors that mean "the database cannot be reached or written right now" (server down or
# restarting, network gone, pool exhausted, disk full, file locked past the busy timeout),
# as opposed to a bug or a constraint: callers keep what they hold, report unhealthy and
# retry. A bug (a missing table, bad SQL, a violated constraint) is not an outage: waiting
# would turn it into an endless retry and a 503, so it is raised for what it is.
UNAVAILABLE: tuple[type[Exception], ...] = (DisconnectionError, PoolTimeout)

# SQLite primary result codes (https://sqlite.org/rescode.html) that describe the
# environment, not the statement: BUSY, LOCKED, NOMEM, READONLY (file or disk made
# read-only), IOERR, CORRUPT is *not* here (waiting does not mend it), FULL, CANTOPEN,
# PROTOCOL.
_SQLITE_OUTAGES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
# PostgreSQL SQLSTATE classes and codes (Appendix A of its manual): 08 connection
# exceptions, 53 insufficient resources (disk full, out of memory, too many connections),
# 57P01-57P05 the server shutting down or not yet accepting connections, 58 system errors
# (I/O), 40001/40P01 serialization failures and deadlocks (retried as a whole).
_POSTGRES_OUTAGE_CLASSES = ("08", "53", "58")
_POSTGRES_OUTAGES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05", "40001", "40P01"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is a database outage to wait out, rather than a bug to report.

    The one place that decides it (the engine, the gateway, the heartbeat, the change
    watcher and the API's error handler all ask here).
    """
    if isinstance(exc, UNAVAILABLE):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_OUTAGES
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_POSTGRES_OUTAGE_CLASSES) or sqlstate in _POSTGRES_OUTAGES
    # A driver error without a code: psycopg raises these when it has no connection at all
    # (refused, reset); an InterfaceError is always about the connection.
    return type(orig).__name__ in ("OperationalError", "InterfaceError")


def is_row_error(exc: BaseException) -> bool:
    """Whether ``exc`` is about the values written (PEP 249's IntegrityError and
    DataError: a constraint, a value the column refuses), so that writing the other rows
    on their own can succeed; any other error (a missing table, bad SQL) is about every
    row and must not be blamed on one."""
    return isinstance(exc, IntegrityError | DataError)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front: a read lock upgraded later
        # can fail with SQLITE_BUSY instead of waiting for busy_timeout.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _create_private_file(url: str) -> None:
    # The database holds encrypted secrets and the schedule: readable by its owner only.
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _require_psycopg() -> None:
    """PostgreSQL's driver is the [postgres] extra: without it, one line saying so."""
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        raise ConfigurationError(
            "APICRON_DATABASE_URL is a PostgreSQL URL but its driver, psycopg, is not "
            "installed: pip install 'apicron[server,postgres]'"
        ) from None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _create_private_file(url)
        engine = create_engine(url, pool_size=8, max_overflow=16, pool_timeout=30)
        _configure_sqlite(engine)
        return engine
    _require_psycopg()
    # PostgreSQL (psycopg 3): connections are checked before use, so a restarted server
    # costs one failed ping per pooled connection instead of one failed request; connects
    # and waits for a pooled connection are bounded so an outage is reported, not hung on.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=10,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "application_name": "apicron"},
    )
