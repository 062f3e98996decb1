"""Engine creation: SQLite tuned for a single writer, and the write-transaction mode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

WRITE_OPTION = "apicron_write"

# Errors that mean "the database cannot be reached right now" (server down or restarting,
# network gone, pool exhausted), as opposed to a bug or a constraint: callers keep what
# they hold, report unhealthy and retry.
UNAVAILABLE: tuple[type[Exception], ...] = (DisconnectionError, PoolTimeout)


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, UNAVAILABLE):
        return True
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated
        or type(exc).__name__ in ("OperationalError", "InterfaceError")
    )


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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _create_private_file(url)
        engine = create_engine(url, pool_size=8, max_overflow=16, pool_timeout=30)
        _configure_sqlite(engine)
        return engine
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
