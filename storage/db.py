"""Engines and sessions: SQLite for one process without setup, PostgreSQL for several instances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, AdaptedConnection, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import Pool

log = logging.getLogger(__name__)

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
# How long a SQLite writer waits for another writer before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5_000
# Connections one instance keeps to the database (the DATABASE_POOL_SIZE setting); the bot
# state keeps two of them (storage/state_drivers.py), the units of work share the rest.
DEFAULT_POOL_SIZE = 10
# A readiness probe must answer before the load balancer's own timeout does.
PING_TIMEOUT_SECONDS = 2.0
POSTGRES_CONNECT_TIMEOUT_SECONDS = 3.0
# A backstop for every statement: a turn's own calls are held to 5 s by storage.breaker, but
# a statement queued behind others' row locks may wait longer on a busy server.
POSTGRES_STATEMENT_TIMEOUT_SECONDS = 15.0


def create_engine(
    url: str, *, pool_size: int = DEFAULT_POOL_SIZE, timeouts: bool = True
) -> AsyncEngine:
    """Create the engine for a `sqlite+aiosqlite:///path` or `postgresql+asyncpg://` URL.

    Its pool is the instance's only one: at most `pool_size` connections, for everything.
    Without `timeouts` (migrations, which may wait for another instance's lock and build
    indexes), PostgreSQL statements may take as long as they take.
    """
    parsed = make_url(url)
    if parsed.drivername == SQLITE_DRIVER:
        return _sqlite_engine(parsed, pool_size)
    if parsed.drivername == POSTGRES_DRIVER:
        return _postgres_engine(parsed, pool_size, timeouts=timeouts)
    # Name only the scheme: the URL may hold a password.
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r}: "
        f"use {SQLITE_DRIVER}:///path/to/file.db or {POSTGRES_DRIVER}://user@host/db"
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the session factory the unit of work and the state storage use."""
    # Objects stay readable after commit: an expired attribute would need IO, which asyncio forbids.
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    """Tell whether the database answers within a few seconds; never raises."""
    try:
        async with asyncio.timeout(PING_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # readiness must answer "no", whatever went wrong
        log.warning("database ping failed: %s", type(error).__name__)
        return False
    return True


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Pool, asyncio.Lock] = weakref.WeakKeyDictionary()


def writer_turn(engine: AsyncEngine) -> AbstractAsyncContextManager[Any]:
    """Hold this around a transaction that writes, so writers in this process take turns.

    SQLite lets one writer in at a time and makes the others sleep and poll (busy_timeout); under
    load that sleeping cost more than the writes themselves. Queueing writers in asyncio instead
    keeps readers free (WAL) and writers fair. Other processes on the same file still wait via
    busy_timeout. PostgreSQL needs no turns: its row locks do this better.
    """
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _SQLITE_WRITERS.get(engine.pool)
    if lock is None:
        lock = _SQLITE_WRITERS.setdefault(engine.pool, asyncio.Lock())
    return lock


def dialect_insert(dialect: Dialect, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support (PostgreSQL and SQLite spell it alike)."""
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    if dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no upsert for dialect {dialect.name!r}")


def _sqlite_engine(url: URL, pool_size: int) -> AsyncEngine:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        # Every pooled connection would get its own empty in-memory database.
        raise ValueError(f"SQLite needs a file path: {SQLITE_DRIVER}:///path/to/wegwijzer.db")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
    event.listen(
        engine.sync_engine, "connect", lambda connection, _: configure_sqlite_connection(connection)
    )
    event.listen(engine.sync_engine, "begin", _begin)
    return engine


def configure_sqlite_connection(dbapi_connection: Any) -> None:
    """The settings every SQLite connection of ours gets, through SQLAlchemy or not."""
    # The driver would BEGIN only before INSERT/UPDATE/DELETE, leaving reads, DDL and SAVEPOINTs
    # outside the transaction; _begin takes over so a transaction (and a migration) is whole.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers read while one writer writes; journal_mode persists in the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin(connection: Connection) -> None:
    # Deferred, so readers never wait for a writer. A transaction whose first statement writes
    # waits (busy_timeout) for another writer; one that reads first and writes later can fail
    # with "database is locked" when another writer got in between, so write rules as single
    # statements (UPDATE ... WHERE, INSERT ... ON CONFLICT), as PostgreSQL needs them anyway.
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    driver = connection.connection.dbapi_connection
    if isinstance(driver, AdaptedConnection):
        # Straight to aiosqlite: one hand-off to its thread, where exec_driver_sql makes three (a
        # cursor, the statement, closing the cursor) and an execution context of its own.
        driver.run_async(lambda db: db.execute("BEGIN"))
    else:
        connection.exec_driver_sql("BEGIN")


def _postgres_engine(url: URL, pool_size: int, *, timeouts: bool) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        # Waiting for a pooled connection may take a while under load; a turn's own calls are
        # limited by storage.breaker.
        pool_timeout=30,
        # Connections die when the server restarts or fails over; check before use, renew hourly.
        pool_pre_ping=True,
        pool_recycle=3600,
        # A database that does not answer must fail a turn in seconds, not hold it past the 15
        # seconds Teams waits: connecting and each statement (asyncpg's command_timeout, which
        # also cancels it on the server) are bounded.
        connect_args={
            "timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
            "command_timeout": POSTGRES_STATEMENT_TIMEOUT_SECONDS if timeouts else None,
            "server_settings": {"application_name": "wegwijzer"},
        },
    )
