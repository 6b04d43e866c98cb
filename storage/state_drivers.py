"""The bot state's statements, on the engine's own pooled connections, in shared batches.

Bot state is read once and written once per turn, always the same few statements on one table.
Through SQLAlchemy's async layer (session, greenlet switches, and on SQLite a thread hand-off
per cursor call) each cost several times the statement itself. So the state's statements run on the
database driver's own connection (asyncpg, aiosqlite), taken from the engine's pool: one pool
per instance, its size the `DATABASE_POOL_SIZE` setting. Domain writes never come here; they go
through the unit of work (storage/uow.py).

- Reads that arrive while one is on its way go together in the next one (one statement for
  many keys); so do single writes (one statement for many rows, each row still checked against
  its own eTag, so each write keeps its own outcome). On SQLite a batch of writes is one
  transaction, one commit, instead of each write waiting for its own fsync.
- The reader and the writer each keep one pooled connection between their batches (they run
  one batch at a time): taking it from the pool and giving it back for every batch cost the loop
  a measurable share of a turn (docs/performance.md). A connection that failed is given back,
  invalidated; the next batch takes another.

`SqlStorage` keeps the eTag rules; the driver only runs what it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool

from storage.breaker import UNAVAILABLE
from storage.db import writer_turn
from storage.models import BotStateItem

TABLE = BotStateItem.__tablename__
_In = TypeVar("_In")
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
                    if len(batch) > 1 and not isinstance(error, UNAVAILABLE):
                        # One caller's bad row (a NUL byte PostgreSQL refuses, say) must not
                        # fail the others: each runs again on its own and gets its own outcome.
                        await self._run_alone(batch)
                        continue
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

    async def _run_alone(self, batch: list[tuple[_In, asyncio.Future[_Out]]]) -> None:
        for item, done in batch:
            try:
                (outcome,) = await self._run([item])
            except Exception as error:
                outcome = error
            if isinstance(outcome, Exception):
                _fail(done, outcome)
            else:
                _succeed(done, outcome)


class _Dialect:
    """How one database driver runs the state's statements on its own connection."""

    async def fetch(self, db: Any, keys: list[str]) -> list[tuple[str, str, str]]:
        raise NotImplementedError

    async def upsert(self, db: Any, writes: list[Write]) -> None:
        raise NotImplementedError

    async def update(self, db: Any, writes: list[Write]) -> set[str]:
        """Write the rows whose eTag is still the expected one; the keys written."""
        raise NotImplementedError

    async def delete(self, db: Any, keys: list[str]) -> None:
        raise NotImplementedError

    def transaction(self, db: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    def batch_transaction(
        self, db: Any, *, statements: int
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        """Around a batch of single writes, each of which keeps its own outcome."""
        if statements == 1:  # one statement is a transaction of its own
            return contextlib.nullcontext()
        return self.transaction(db)


_UPSERT_SET = "data = excluded.data, etag = excluded.etag, updated_at = excluded.updated_at"


class _Postgres(_Dialect):
    """asyncpg: arrays for many rows in one statement, prepared once per connection."""

    _READ = f"SELECT key, data, etag FROM {TABLE} WHERE key = ANY($1::varchar[])"
    _UPSERT = (
        f"INSERT INTO {TABLE} (key, data, etag, updated_at) "
        "SELECT * FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::timestamptz[]) "
        f"ON CONFLICT (key) DO UPDATE SET {_UPSERT_SET}"
    )
    _UPDATE = (
        f"UPDATE {TABLE} AS item SET data = row.data, etag = row.etag, updated_at = row.now "
        "FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::timestamptz[], "
        "$5::varchar[]) AS row(key, data, etag, now, expected) "
        "WHERE item.key = row.key AND item.etag = row.expected RETURNING item.key"
    )
    _DELETE = f"DELETE FROM {TABLE} WHERE key = ANY($1::varchar[])"

    async def fetch(self, db: Any, keys: list[str]) -> list[tuple[str, str, str]]:
        return [(row[0], row[1], row[2]) for row in await db.fetch(self._READ, keys)]

    async def upsert(self, db: Any, writes: list[Write]) -> None:
        await db.execute(self._UPSERT, *_columns(writes, expected=False))

    async def update(self, db: Any, writes: list[Write]) -> set[str]:
        return {row[0] for row in await db.fetch(self._UPDATE, *_columns(writes, expected=True))}

    async def delete(self, db: Any, keys: list[str]) -> None:
        await db.execute(self._DELETE, keys)

    def transaction(self, db: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return db.transaction()  # type: ignore[no-any-return]

    def batch_transaction(
        self, db: Any, *, statements: int
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        # Each statement commits on its own: no BEGIN and COMMIT round trips around them.
        return contextlib.nullcontext()


class _Sqlite(_Dialect):
    """aiosqlite: many rows as VALUES lists; timestamps as SQLAlchemy stores them."""

    _UPDATE_TAIL = " AS row WHERE item.key = row.column1 AND item.etag = row.column5 RETURNING key"

    async def fetch(self, db: Any, keys: list[str]) -> list[tuple[str, str, str]]:
        sql = f"SELECT key, data, etag FROM {TABLE} WHERE key IN ({_marks(len(keys), 1)})"
        return [(row[0], row[1], row[2]) for row in await db.execute_fetchall(sql, keys)]

    async def upsert(self, db: Any, writes: list[Write]) -> None:
        sql = (
            f"INSERT INTO {TABLE} (key, data, etag, updated_at) VALUES {_marks(len(writes), 4)} "
            f"ON CONFLICT (key) DO UPDATE SET {_UPSERT_SET}"
        )
        params = [p for w in writes for p in (w.key, w.data, w.new_etag, _sqlite_time(w.now))]
        await db.execute(sql, params)

    async def update(self, db: Any, writes: list[Write]) -> set[str]:
        sql = (
            f"UPDATE {TABLE} AS item SET data = row.column2, etag = row.column3, "
            f"updated_at = row.column4 FROM (VALUES {_marks(len(writes), 5)})" + self._UPDATE_TAIL
        )
        params = [
            p
            for w in writes
            for p in (w.key, w.data, w.new_etag, _sqlite_time(w.now), w.expected_etag)
        ]
        return {row[0] for row in await db.execute_fetchall(sql, params)}

    async def delete(self, db: Any, keys: list[str]) -> None:
        await db.execute(f"DELETE FROM {TABLE} WHERE key IN ({_marks(len(keys), 1)})", keys)

    @contextlib.asynccontextmanager
    async def transaction(self, db: Any) -> Any:
        # IMMEDIATE: the write lock from the start, so the transaction never fails half-way
        # on a lock another writer took after it began.
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")


class StateDriver:
    """The state's reads, writes and deletes for one engine, on connections of its pool."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name == "postgresql":
            self._dialect: _Dialect = _Postgres()
        elif engine.dialect.name == "sqlite":
            self._dialect = _Sqlite()
        else:
            raise ValueError(f"no state driver for dialect {engine.dialect.name!r}")
        self._engine = engine
        # SQLite lets one writer in at a time: the state's writes take turns with the unit of
        # work's in this process, instead of meeting in SQLite's busy handler.
        self._writer_turn = writer_turn(engine)
        self._reads = _Coalesced(self._read_batch)
        self._writes = _Coalesced(self._write_batch)
        self._reader = _HeldConnection(engine)
        self._writer = _HeldConnection(engine)

    async def read(self, keys: Sequence[str]) -> list[tuple[str, str, str]]:
        return await self._reads(keys)

    async def write(self, writes: Sequence[Write]) -> None:
        """Write all of `writes` or, when one eTag no longer matches, none of them."""
        if len(writes) == 1:  # nearly every write: it can share a statement with others
            await self._writes(writes[0])
            return
        async with (
            self._writer_turn,
            _connection(self._engine) as db,
            self._dialect.transaction(db),
        ):
            for write in writes:
                if write.expected_etag is None:
                    await self._dialect.upsert(db, [write])
                elif not await self._dialect.update(db, [write]):
                    raise EtagMismatch(write.key)

    async def delete(self, keys: Sequence[str]) -> None:
        async with (
            self._writer_turn,
            _connection(self._engine) as db,
            self._dialect.transaction(db),
        ):
            await self._dialect.delete(db, list(keys))

    async def close(self) -> None:
        """Let queued work reach the database, then give the held connections back."""
        await self._reads.drain()
        await self._writes.drain()
        await self._reader.give_back()
        await self._writer.give_back()

    async def _read_batch(
        self, batch: list[Sequence[str]]
    ) -> list[list[tuple[str, str, str]] | Exception]:
        wanted = list(dict.fromkeys(key for keys in batch for key in keys))
        async with self._reader.use() as db:
            rows = await self._dialect.fetch(db, wanted)
        found = {row[0]: row for row in rows}
        return [[found[key] for key in keys if key in found] for keys in batch]

    async def _write_batch(self, batch: list[Write]) -> list[Exception | None]:
        """Each write checked on its own; a key written twice goes in a later round."""
        outcomes: list[Exception | None] = [None] * len(batch)
        rounds = _rounds(batch)
        statements = sum(bool(upserts) + bool(updates) for upserts, updates in rounds)
        async with (
            self._writer_turn,
            self._writer.use() as db,
            self._dialect.batch_transaction(db, statements=statements),
        ):
            for upserts, updates in rounds:
                if upserts:
                    await self._dialect.upsert(db, [batch[i] for i in upserts])
                if updates:
                    written = await self._dialect.update(db, [batch[i] for i in updates])
                    for index in updates:
                        if batch[index].key not in written:
                            outcomes[index] = EtagMismatch(batch[index].key)
        return outcomes


def _rounds(batch: list[Write]) -> list[tuple[list[int], list[int]]]:
    """The batch's upserts and updates (by index) per round; a key written twice waits a round."""
    rounds = []
    waiting = list(range(len(batch)))
    while waiting:
        keys: set[str] = set()
        now: list[int] = []
        later: list[int] = []
        for index in waiting:
            (later if batch[index].key in keys else now).append(index)
            keys.add(batch[index].key)
        upserts = [i for i in now if batch[i].expected_etag is None]
        updates = [i for i in now if batch[i].expected_etag is not None]
        rounds.append((upserts, updates))
        waiting = later
    return rounds


class _HeldConnection:
    """A pooled connection kept by one batcher between its batches (it runs one at a time)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._db: Any = None  # the driver's connection under `_connection`, looked up once

    @contextlib.asynccontextmanager
    async def use(self) -> Any:
        """The driver's own connection; after an error it is given back, invalidated."""
        try:
            if self._db is not None and _closed(self._db):
                # The server ended it while it was held: take another.
                await self.give_back(invalidate=True)
            if self._db is None:
                self._connection = await self._engine.connect()
                self._db = (await self._connection.get_raw_connection()).driver_connection
            yield self._db
        except BaseException:
            await self.give_back(invalidate=True)
            raise

    async def give_back(self, *, invalidate: bool = False) -> None:
        connection, self._connection, self._db = self._connection, None, None
        if connection is None:
            return
        with contextlib.suppress(Exception):  # a connection that broke is dropped either way
            if invalidate:
                await connection.invalidate()
        await connection.close()


@contextlib.asynccontextmanager
async def _connection(engine: AsyncEngine) -> Any:
    """A connection from the pool for one piece of work, the driver's own."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        yield raw.driver_connection


_DRIVERS: weakref.WeakKeyDictionary[Pool, StateDriver] = weakref.WeakKeyDictionary()


def driver_for(engine: AsyncEngine) -> StateDriver:
    """The one state driver of this engine, made on first use."""
    driver = _DRIVERS.get(engine.pool)
    if driver is None:
        driver = _DRIVERS[engine.pool] = StateDriver(engine)
    return driver


async def close_driver(engine: AsyncEngine) -> None:
    """Close the engine's state driver, if it has one; call before disposing the engine."""
    driver = _DRIVERS.pop(engine.pool, None)
    if driver is not None:
        await driver.close()


def _closed(db: Any) -> bool:
    """Whether the driver knows its connection is gone (asyncpg does; aiosqlite fails instead)."""
    is_closed = getattr(db, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


def _columns(writes: list[Write], *, expected: bool) -> list[list[Any]]:
    columns: list[list[Any]] = [
        [w.key for w in writes],
        [w.data for w in writes],
        [w.new_etag for w in writes],
        [w.now for w in writes],
    ]
    if expected:
        columns.append([w.expected_etag for w in writes])
    return columns


def _marks(rows: int, columns: int) -> str:
    if columns == 1:
        return ",".join("?" * rows)
    row = "(" + ",".join("?" * columns) + ")"
    return ",".join([row] * rows)


def _sqlite_time(moment: datetime) -> str:
    """A timestamp as SQLAlchemy stores UtcDateTime on SQLite: naive UTC text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
