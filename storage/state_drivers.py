"""The bot state's two statements per turn, run on the database driver itself.

Bot state is read once and written once per turn, always the same few statements on one table.
Through SQLAlchemy's async layer each cost about a millisecond of CPU (connection checkout,
greenlet switches, and for SQLite a thread hand-off per cursor call); on the drivers SQLAlchemy
itself uses they cost a tenth of that:

- PostgreSQL: asyncpg with its own small pool and prepared statements. Reads that arrive while
  one is on its way go together in the next one (one statement for many keys), and so do
  single writes (one statement for many rows, each row still checked against its own eTag):
  each statement through the pool cost the loop about a tenth of a millisecond.
- SQLite: reads by key run on the loop itself, on a connection that never waits for a lock
  (a read takes tens of microseconds; handing it to a thread cost more than the read). Should it
  meet a lock, the read goes to a thread of its own, where it may wait. Writes run on one
  connection in one thread, and writes that arrive while one commits are committed together
  (group commit) instead of each waiting for its own fsync. WAL mode lets reads go on during a
  commit.

A new user's conversation reference (`storage.uow.TurnUnitOfWork`) is upserted here too, in the
same commit as the state on SQLite and in a batch of its own on PostgreSQL, with the statement
SQLAlchemy renders for the repository.

The tables, their migrations and the rest of the storage stay SQLAlchemy's. `SqlStorage` keeps the
eTag rules; a driver only runs what it is given, each write batch in one transaction.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

from storage.db import configure_sqlite_connection, writer_turn
from storage.models import BotStateItem
from storage.repositories import conversation_upsert_sql

TABLE = BotStateItem.__tablename__
_T = TypeVar("_T")
_In = TypeVar("_In")
_Work = Callable[[sqlite3.Connection], None]  # one caller's part of a SQLite commit
_Out = TypeVar("_Out")


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


class _Coalesced(Generic[_In, _Out]):
    """Calls that arrive while a batch runs wait for it to end, and then run together.

    `run` gets the inputs of a batch and gives one outcome per input: its result, or the
    exception for that caller alone. If `run` raises, every caller in the batch gets that error.
    A call that finds nothing running starts at once, so a quiet bot waits for nothing.
    """

    def __init__(self, run: Callable[[list[_In]], Awaitable[list[_Out | Exception]]]) -> None:
        self._run = run
        self._queued: list[tuple[_In, asyncio.Future[_Out]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, item: _In) -> _Out:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[_Out] = loop.create_future()
        self._queued.append((item, done))
        if self._task is None:
            self._task = loop.create_task(self._run_queued())
        return await done

    async def drain(self) -> None:
        """Wait until every call made so far has run."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _run_queued(self) -> None:
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    outcomes = await self._run([item for item, _ in batch])
                except asyncio.CancelledError:  # the loop is shutting down
                    for _, done in batch + self._queued:
                        done.cancel()
                    self._queued = []
                    raise
                except Exception as error:  # the batch as a whole failed
                    for _, done in batch:
                        _fail(done, error)
                    continue
                for (_, done), outcome in zip(batch, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        _fail(done, outcome)
                    else:
                        _succeed(done, outcome)
        finally:
            self._task = None


class StateDriver(Protocol):
    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]: ...
    async def write(self, writes: Sequence[Write]) -> None: ...
    async def upsert_conversations(self, rows: Sequence[Mapping[str, Any]]) -> None: ...
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


async def _keep_session(_: asyncpg.Connection) -> None:
    """Pool reset that sends nothing: the state's statements leave no session state behind.

    asyncpg's default reset runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`,
    a round trip each time a connection goes back to the pool, twice per turn. These connections
    only ever run the statements below (no SET, LISTEN, cursors or advisory locks), and asyncpg
    still rolls back a transaction left open before this is called.
    """


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
    # The same two for many rows at once (each key at most once per statement).
    _UPSERT_ROWS = (
        f"INSERT INTO {TABLE} (key, data, etag, updated_at) "
        "SELECT * FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::timestamptz[]) "
        "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, etag = EXCLUDED.etag, "
        "updated_at = EXCLUDED.updated_at"
    )
    _UPDATE_ROWS_IF_ETAG = (
        f"UPDATE {TABLE} AS item SET data = row.data, etag = row.etag, updated_at = row.now "
        "FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::timestamptz[], "
        "$5::varchar[]) AS row(key, data, etag, now, expected) "
        "WHERE item.key = row.key AND item.etag = row.expected RETURNING item.key"
    )
    _DELETE = f"DELETE FROM {TABLE} WHERE key = ANY($1::varchar[])"

    def __init__(self, url: URL) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()
        self._reads = _Coalesced(self._read_batch)
        self._writes = _Coalesced(self._write_batch)
        self._conversations = _Coalesced(self._upsert_conversation_batch)
        # Each batcher runs one batch at a time, on a connection it keeps between batches.
        self._reader = _HeldConnection()
        self._writer = _HeldConnection()
        self._upserter = _HeldConnection()
        sql, self._conversation_columns = conversation_upsert_sql(postgresql.dialect())  # type: ignore[no-untyped-call]
        # asyncpg numbers its parameters: :scope becomes $1, and so on.
        place = {name: f"${number}" for number, name in enumerate(self._conversation_columns, 1)}

        def numbered(match: re.Match[str]) -> str:
            return place[match.group(1)]

        self._conversation_sql = re.sub(r":(\w+)", numbered, sql)

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
                        reset=_keep_session,
                    )
        return self._pool

    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]:
        return await self._reads(keys)

    async def _read_batch(
        self, batch: list[Sequence[str]]
    ) -> list[list[tuple[str, str, str]] | Exception]:
        connection = await self._reader.take(await self._connections())
        wanted = list(dict.fromkeys(key for keys in batch for key in keys))
        rows = await connection.fetch(self._READ, wanted)
        found = {row[0]: (row[0], row[1], row[2]) for row in rows}
        return [[found[key] for key in keys if key in found] for keys in batch]

    async def write(self, writes: Sequence[Write]) -> None:
        if len(writes) == 1:  # nearly every write: it can share a statement with others
            await self._writes(writes[0])
            return
        pool = await self._connections()
        async with pool.acquire() as connection, connection.transaction():
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

    async def _write_batch(self, batch: list[Write]) -> list[Exception | None]:
        """Each write checked on its own; a key written twice goes in a second round."""
        outcomes: list[Exception | None] = [None] * len(batch)
        waiting = list(range(len(batch)))
        connection = await self._writer.take(await self._connections())
        while waiting:
            keys: set[str] = set()
            now: list[int] = []
            later: list[int] = []
            for index in waiting:
                (later if batch[index].key in keys else now).append(index)
                keys.add(batch[index].key)
            upserts = [i for i in now if batch[i].expected_etag is None]
            updates = [i for i in now if batch[i].expected_etag is not None]
            if upserts:
                await self._run_rows(connection, batch, upserts, outcomes, self._upsert_rows)
            if updates:
                await self._run_rows(connection, batch, updates, outcomes, self._update_rows)
            waiting = later
        return outcomes

    async def _run_rows(
        self,
        connection: Any,
        batch: list[Write],
        indexes: list[int],
        outcomes: list[Exception | None],
        statement: Callable[[Any, list[Write]], Awaitable[set[str]]],
    ) -> None:
        """One statement for these writes; a write it did not change failed its eTag check."""
        writes = [batch[i] for i in indexes]
        try:
            changed = await statement(connection, writes)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            for index in indexes:
                outcomes[index] = error
            return
        for index, write in zip(indexes, writes, strict=True):
            if write.key not in changed:
                outcomes[index] = EtagMismatch(write.key)

    async def _upsert_rows(self, connection: Any, writes: list[Write]) -> set[str]:
        if len(writes) == 1:  # the single-row statement: no arrays to encode and unpack
            await self._write_one(connection, writes[0])
            return {writes[0].key}
        await connection.execute(
            self._UPSERT_ROWS,
            [write.key for write in writes],
            [write.data for write in writes],
            [write.new_etag for write in writes],
            [write.now for write in writes],
        )
        return {write.key for write in writes}

    async def _update_rows(self, connection: Any, writes: list[Write]) -> set[str]:
        if len(writes) == 1:
            try:
                await self._write_one(connection, writes[0])
            except EtagMismatch:
                return set()
            return {writes[0].key}
        rows = await connection.fetch(
            self._UPDATE_ROWS_IF_ETAG,
            [write.key for write in writes],
            [write.data for write in writes],
            [write.new_etag for write in writes],
            [write.now for write in writes],
            [write.expected_etag for write in writes],
        )
        return {row[0] for row in rows}

    async def upsert_conversations(self, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._conversations(rows)

    async def _upsert_conversation_batch(
        self, batch: list[Sequence[Mapping[str, Any]]]
    ) -> list[Exception | None]:
        """Every caller's rows in one statement, which stores all of them or none."""
        connection = await self._upserter.take(await self._connections())
        columns = self._conversation_columns
        await connection.executemany(
            self._conversation_sql,
            [tuple(row[name] for name in columns) for rows in batch for row in rows],
        )
        return [None] * len(batch)

    async def delete(self, keys: Sequence[str]) -> None:
        pool = await self._connections()
        await pool.execute(self._DELETE, list(keys))

    async def close(self) -> None:
        await self._reads.drain()
        await self._writes.drain()  # let queued writes reach the database first
        await self._conversations.drain()
        if self._pool is not None:
            for held in (self._reader, self._writer, self._upserter):
                await held.give_back(self._pool)
            await self._pool.close()
            self._pool = None


class _HeldConnection:
    """A pooled connection kept by one batcher between its batches (it runs one at a time).

    Taking a connection from the pool and giving it back for every batch cost the loop 3 to 4%
    of a PostgreSQL turn. A connection that broke goes back to the pool, which replaces it, and
    the next batch takes another.
    """

    def __init__(self) -> None:
        self._connection: Any = None

    async def take(self, pool: asyncpg.Pool) -> Any:
        if self._connection is not None and not _open(self._connection):
            await self.give_back(pool)
        if self._connection is None:
            self._connection = await pool.acquire()
        return self._connection

    async def give_back(self, pool: asyncpg.Pool) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await pool.release(connection)


def _open(connection: Any) -> bool:
    """Whether a pooled connection can still be used."""
    try:
        return not connection.is_closed()
    except asyncpg.InterfaceError:  # it was lost, and the pool has taken it back already
        return False


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
        # Reads on connections of their own: in WAL mode they need not wait for a commit. One is
        # used on the loop and never waits for a lock; the other, in its thread, reads when the
        # first one met a lock (or opens the first one, which may have to wait too).
        self._path = path
        self._reader = _SqliteThread(path, "wegwijzer-state-read")
        self._loop_reader: sqlite3.Connection | None = None
        self._writer = _SqliteThread(path, "wegwijzer-state-write")
        # The turn the engine's other writers take (storage.db.writer_turn): without it, a state
        # write and a unit of work's write met in SQLite's busy handler, which sleeps 1, 2, 5 ms.
        self._writer_turn = writer_turn
        # Writes that arrive while one commits share the next commit (group commit).
        self._commits = _Coalesced(self._commit_batch)
        self._conversation_sql, self._conversation_columns = conversation_upsert_sql(
            sqlite.dialect()
        )

    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]:
        marks = ",".join("?" * len(keys))
        sql = f"SELECT key, data, etag FROM {TABLE} WHERE key IN ({marks})"
        params = list(keys)
        if self._loop_reader is None:
            opened = await self._reader.run(_open_loop_reader, self._path)
            if self._loop_reader is None:
                self._loop_reader = opened
            else:  # another read opened one meanwhile
                opened.close()
        try:
            return _fetch(self._loop_reader, sql, params)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        # Locked: another connection holds the database exclusively, or SQLite is rebuilding its
        # WAL index. Waiting is for the thread.
        rows: list[tuple[str, str, str]] = await self._reader.run(_fetch, sql, params)
        return rows

    async def write(self, writes: Sequence[Write]) -> None:
        """Commit `writes` together, and with any other writes that queue while one commits.

        Every commit waits for the disk (fsync). One at a time, they capped a busy bot at about
        500 writes a second, with turns waiting 40 ms for their turn to write; now the writes
        that queued during a commit share the next one. Each keeps its own outcome: it runs in a
        savepoint, so a write whose eTag no longer matches changes nothing and fails alone.
        """
        await self._commits(partial(self._apply, writes=list(writes)))

    async def upsert_conversations(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store conversation references in the next commit, all of `rows` or none."""
        values = [
            {
                name: _sqlite_time(value) if isinstance(value, datetime) else value
                for name, value in row.items()
            }
            for row in rows
        ]
        await self._commits(partial(_execute_many, sql=self._conversation_sql, rows=values))

    async def _commit_batch(self, batch: list[_Work]) -> list[Exception | None]:
        async with self._writer_turn:
            return await self._writer.run(self._write_batch, batch)

    def _write_batch(self, db: sqlite3.Connection, batch: list[_Work]) -> list[Exception | None]:
        """One transaction for the batch; each caller's work in a savepoint of its own."""
        outcomes: list[Exception | None] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            if len(batch) == 1:
                batch[0](db)  # its failure is the transaction's: no savepoint needed
                outcomes.append(None)
            else:
                for work in batch:
                    outcomes.append(self._apply_in_savepoint(db, work))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return outcomes

    def _apply_in_savepoint(self, db: sqlite3.Connection, work: _Work) -> Exception | None:
        db.execute("SAVEPOINT state_write")
        try:
            work(db)
        except (EtagMismatch, sqlite3.Error) as error:
            if not db.in_transaction:
                raise  # SQLite ended the whole transaction (a full disk, say): all fail
            db.execute("ROLLBACK TO state_write")
            db.execute("RELEASE state_write")
            return error
        db.execute("RELEASE state_write")
        return None

    def _apply(self, db: sqlite3.Connection, writes: list[Write]) -> None:
        for write in writes:
            now = _sqlite_time(write.now)
            if write.expected_etag is None:
                db.execute(self._UPSERT, (write.key, write.data, write.new_etag, now))
                continue
            cursor = db.execute(
                self._UPDATE_IF_ETAG,
                (write.data, write.new_etag, now, write.key, write.expected_etag),
            )
            if cursor.rowcount != 1:
                raise EtagMismatch(write.key)

    async def delete(self, keys: Sequence[str]) -> None:
        marks = ",".join("?" * len(keys))
        async with self._writer_turn:
            await self._writer.run(_execute, f"DELETE FROM {TABLE} WHERE key IN ({marks})", keys)

    async def close(self) -> None:
        await self._commits.drain()  # let queued writes reach the disk first
        if self._loop_reader is not None:
            self._loop_reader.close()
            self._loop_reader = None
        await self._reader.close()
        await self._writer.close()


class _SqliteThread:
    """One sqlite3 connection and the one thread that uses it."""

    def __init__(self, path: str, name: str) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:  # runs in the thread only
        if self._connection is None:
            self._connection = _connect(self._path)
        return self._connection

    async def run(self, work: Callable[..., _T], *args: Any) -> _T:
        """`work(connection, *args)` in the thread; its result or exception, back on the loop."""
        return await self._in_thread(lambda: work(self._db(), *args))

    async def close(self) -> None:
        await self._in_thread(self._close_connection)
        self._thread.shutdown(wait=False)

    def _close_connection(self) -> None:  # runs in the thread only
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _in_thread(self, call: Callable[[], _T]) -> _T:
        """`call()` in the thread, as `loop.run_in_executor` but with one future, set from there.

        run_in_executor chains a concurrent future to an asyncio one: two futures, their
        callbacks and an extra hand-off per call, 2.5% of a turn's instructions.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[_T] = loop.create_future()

        def run() -> None:
            try:
                result = call()
            except BaseException as error:
                loop.call_soon_threadsafe(_fail, done, error)
            else:
                loop.call_soon_threadsafe(_succeed, done, result)

        self._thread.submit(run)
        return await done


def _connect(path: str) -> sqlite3.Connection:
    """A connection with our settings, for use by one thread at a time (not always the same)."""
    connection = sqlite3.connect(path, check_same_thread=False)
    configure_sqlite_connection(connection)  # autocommit mode: BEGIN is written out
    return connection


def _open_loop_reader(_: sqlite3.Connection, path: str) -> sqlite3.Connection:
    """A connection for reads on the loop, opened in a thread: opening it may wait for a lock."""
    connection = _connect(path)
    connection.execute("PRAGMA busy_timeout=0")  # on the loop, a lock is an error, not a wait
    return connection


def _fetch(db: sqlite3.Connection, sql: str, params: list[str]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = db.execute(sql, params).fetchall()
    return rows


def _execute(db: sqlite3.Connection, sql: str, params: Sequence[str]) -> None:
    db.execute(sql, list(params))


def _execute_many(db: sqlite3.Connection, sql: str, rows: list[dict[str, Any]]) -> None:
    db.executemany(sql, rows)


def _sqlite_time(moment: datetime) -> str:
    """A timestamp as SQLAlchemy stores UtcDateTime on SQLite: naive UTC text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
