"""The bot state's two statements per turn, run on the database driver itself.

Bot state is read once and written once per turn, always the same few statements on one table.
Through SQLAlchemy's async layer each cost about a millisecond of CPU (connection checkout,
greenlet switches, and for SQLite a thread hand-off per cursor call); on the drivers SQLAlchemy
itself uses they cost a tenth of that:

- PostgreSQL: asyncpg with its own small pool and prepared statements.
- SQLite: one sqlite3 connection in one worker thread; each read or write is one hand-off, and
  writers in this process queue there instead of sleeping in SQLite's busy handler.

The table, its migrations and the rest of the storage stay SQLAlchemy's. `SqlStorage` keeps the
eTag rules; a driver only runs what it is given, each write batch in one transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

from storage.db import configure_sqlite_connection, writer_turn
from storage.models import BotStateItem

TABLE = BotStateItem.__tablename__


class EtagMismatch(Exception):
    """Raised by a driver when a conditional update found no row with the expected eTag."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Write:
    key: str
    data: str
    new_etag: str
    expected_etag: str | None  # None: overwrite whatever is there
    now: datetime


class StateDriver(Protocol):
    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]: ...
    async def write(self, writes: Sequence[Write]) -> None: ...
    async def delete(self, keys: Sequence[str]) -> None: ...
    async def close(self) -> None: ...


_DRIVERS: weakref.WeakKeyDictionary[Pool, StateDriver] = weakref.WeakKeyDictionary()


def driver_for(engine: AsyncEngine) -> StateDriver:
    """The one state driver of this engine's database, made on first use."""
    driver = _DRIVERS.get(engine.pool)
    if driver is None:
        if engine.dialect.name == "postgresql":
            driver = PostgresDriver(engine.url)
        elif engine.dialect.name == "sqlite":
            driver = SqliteDriver(str(engine.url.database), writer_turn=writer_turn(engine))
        else:
            raise ValueError(f"no state driver for dialect {engine.dialect.name!r}")
        _DRIVERS[engine.pool] = driver
    return driver


async def close_driver(engine: AsyncEngine) -> None:
    """Close the engine's state driver, if it has one; call before disposing the engine."""
    driver = _DRIVERS.pop(engine.pool, None)
    if driver is not None:
        await driver.close()


class PostgresDriver:
    _READ = f"SELECT key, data, etag FROM {TABLE} WHERE key = ANY($1::varchar[])"
    _UPSERT = (
        f"INSERT INTO {TABLE} (key, data, etag, updated_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, etag = EXCLUDED.etag, "
        "updated_at = EXCLUDED.updated_at"
    )
    _UPDATE_IF_ETAG = (
        f"UPDATE {TABLE} SET data = $2, etag = $3, updated_at = $4 WHERE key = $1 AND etag = $5"
    )
    _DELETE = f"DELETE FROM {TABLE} WHERE key = ANY($1::varchar[])"

    def __init__(self, url: URL) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._creating:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=10,
                        timeout=10,
                        command_timeout=30,
                        server_settings={"application_name": "wegwijzer-state"},
                    )
        return self._pool

    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]:
        pool = await self._connections()
        rows = await pool.fetch(self._READ, list(keys))
        return [(row["key"], row["data"], row["etag"]) for row in rows]

    async def write(self, writes: Sequence[Write]) -> None:
        pool = await self._connections()
        async with pool.acquire() as connection:
            if len(writes) == 1:  # one statement is atomic on its own: no BEGIN/COMMIT trips
                await self._write_one(connection, writes[0])
                return
            async with connection.transaction():
                for write in writes:
                    await self._write_one(connection, write)

    async def _write_one(self, connection: Any, write: Write) -> None:
        if write.expected_etag is None:
            await connection.execute(self._UPSERT, write.key, write.data, write.new_etag, write.now)
            return
        status = await connection.execute(
            self._UPDATE_IF_ETAG,
            write.key,
            write.data,
            write.new_etag,
            write.now,
            write.expected_etag,
        )
        if status != "UPDATE 1":
            raise EtagMismatch(write.key)

    async def delete(self, keys: Sequence[str]) -> None:
        pool = await self._connections()
        await pool.execute(self._DELETE, list(keys))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class SqliteDriver:
    _UPSERT = (
        f"INSERT INTO {TABLE} (key, data, etag, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET data = excluded.data, etag = excluded.etag, "
        "updated_at = excluded.updated_at"
    )
    _UPDATE_IF_ETAG = (
        f"UPDATE {TABLE} SET data = ?, etag = ?, updated_at = ? WHERE key = ? AND etag = ?"
    )

    def __init__(self, path: str, *, writer_turn: AbstractAsyncContextManager[Any]) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wegwijzer-state")
        self._connection: sqlite3.Connection | None = None
        # The turn the engine's other writers take (storage.db.writer_turn): without it, a state
        # write and a unit of work's write met in SQLite's busy handler, which sleeps 1, 2, 5 ms.
        self._writer_turn = writer_turn

    def _db(self) -> sqlite3.Connection:  # runs in the worker thread only
        if self._connection is None:
            connection = sqlite3.connect(self._path, check_same_thread=False)
            configure_sqlite_connection(connection)  # autocommit mode: BEGIN is written out
            self._connection = connection
        return self._connection

    async def _run(self, work: Any, *args: Any) -> Any:
        """`work(*args)` in the worker thread; its result or exception, back on the loop.

        As `loop.run_in_executor`, without chaining a concurrent future to an asyncio one (two
        futures, their callbacks and an extra hand-off per call): 2.5% of a turn's instructions.
        """
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def run() -> None:
            try:
                result = work(*args)
            except BaseException as error:
                loop.call_soon_threadsafe(_fail, done, error)
            else:
                loop.call_soon_threadsafe(_succeed, done, result)

        self._thread.submit(run)
        return await done

    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]:
        marks = ",".join("?" * len(keys))
        sql = f"SELECT key, data, etag FROM {TABLE} WHERE key IN ({marks})"
        rows: list[tuple[str, str, str]] = await self._run(self._fetch, sql, list(keys))
        return rows

    def _fetch(self, sql: str, params: list[str]) -> list[tuple[str, str, str]]:
        return self._db().execute(sql, params).fetchall()

    async def write(self, writes: Sequence[Write]) -> None:
        async with self._writer_turn:
            await self._run(self._write, list(writes))

    def _write(self, writes: list[Write]) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                # Stored as SQLAlchemy stores UtcDateTime on SQLite: naive UTC text.
                now = write.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                if write.expected_etag is None:
                    db.execute(self._UPSERT, (write.key, write.data, write.new_etag, now))
                    continue
                cursor = db.execute(
                    self._UPDATE_IF_ETAG,
                    (write.data, write.new_etag, now, write.key, write.expected_etag),
                )
                if cursor.rowcount != 1:
                    raise EtagMismatch(write.key)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def delete(self, keys: Sequence[str]) -> None:
        marks = ",".join("?" * len(keys))
        async with self._writer_turn:
            await self._run(
                self._execute, f"DELETE FROM {TABLE} WHERE key IN ({marks})", list(keys)
            )

    def _execute(self, sql: str, params: list[str]) -> None:
        self._db().execute(sql, params)

    async def close(self) -> None:
        def close_connection() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await self._run(close_connection)
        self._thread.shutdown(wait=False)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
