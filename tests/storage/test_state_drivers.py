"""The SQLite state driver commits queued writes together, and reads never wait for a commit.

To make writes queue, a second connection holds SQLite's write lock: the driver's first commit
then waits for it (busy_timeout), and whatever is written meanwhile has to wait its turn. Reads
run on the loop, and when the loop's connection finds the database locked they go to a thread.
The PostgreSQL driver's pool hands connections back without asyncpg's reset round trip, and
reads or writes made at the same time share one statement, each write still checked on its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import db, state_drivers
from storage.state_drivers import (
    EtagMismatch,
    PostgresDriver,
    SqliteDriver,
    Write,
    close_driver,
    driver_for,
)

WAIT_S = 5.0


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the state driver's connections run, in order (from any thread)."""
    seen: list[str] = []
    configure = state_drivers.configure_sqlite_connection

    def configure_and_trace(connection: Any) -> None:
        configure(connection)
        connection.set_trace_callback(seen.append)

    monkeypatch.setattr(state_drivers, "configure_sqlite_connection", configure_and_trace)
    return seen


@pytest.fixture
def statement_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every statement the state driver's connections run, with the thread that ran it."""
    seen: list[tuple[str, int]] = []
    configure = state_drivers.configure_sqlite_connection

    def configure_and_trace(connection: Any) -> None:
        configure(connection)
        connection.set_trace_callback(lambda sql: seen.append((sql, threading.get_ident())))

    monkeypatch.setattr(state_drivers, "configure_sqlite_connection", configure_and_trace)
    return seen


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(sqlite_url)
    yield engine
    await close_driver(engine)
    await engine.dispose()


@pytest.fixture
def driver(engine: AsyncEngine) -> SqliteDriver:
    driver = driver_for(engine)
    assert isinstance(driver, SqliteDriver)
    return driver


@contextmanager
def holding_write_lock(engine: AsyncEngine) -> Iterator[sqlite3.Connection]:
    """Another connection to the same file, holding the write lock until rolled back."""
    other = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        if other.in_transaction:
            other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.fixture
def write_lock(engine: AsyncEngine) -> Iterator[sqlite3.Connection]:
    """The write lock, held from the start of the test until it rolls back."""
    with holding_write_lock(engine) as other:
        yield other


def write(key: str, data: str = "{}", *, expected_etag: str | None = None) -> Write:
    return Write(key, data, f"etag-{key}-{data}", expected_etag, datetime.now(UTC))


async def until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the driver never got there"
        await asyncio.sleep(0.01)


async def first_commit_waiting(driver: SqliteDriver, statements: list[str]) -> asyncio.Task[None]:
    """A write whose commit waits for the held write lock."""
    waiting = asyncio.create_task(driver.write([write("first")]))
    await until(lambda: "BEGIN IMMEDIATE" in statements)
    return waiting


async def test_writes_that_queue_during_a_commit_share_the_next_one(
    driver: SqliteDriver, statements: list[str], write_lock: sqlite3.Connection
) -> None:
    waiting = await first_commit_waiting(driver, statements)
    queued = [asyncio.create_task(driver.write([write(f"queued-{n}")])) for n in range(9)]
    await asyncio.sleep(0.05)

    write_lock.execute("ROLLBACK")
    await asyncio.gather(waiting, *queued)

    assert statements.count("BEGIN IMMEDIATE") == 2
    assert statements.count("COMMIT") == 2
    keys = ["first", *(f"queued-{n}" for n in range(9))]
    assert sorted(row[0] for row in await driver.read(keys)) == sorted(keys)


async def test_a_stale_etag_fails_only_its_own_write_in_a_shared_commit(
    driver: SqliteDriver, statements: list[str], engine: AsyncEngine
) -> None:
    await driver.write([write("existing", '{"v": 1}')])
    statements.clear()
    with holding_write_lock(engine) as other:
        waiting = await first_commit_waiting(driver, statements)
        before = asyncio.create_task(driver.write([write("before")]))
        stale = asyncio.create_task(
            driver.write(
                [write("also-in-stale"), write("existing", '{"v": 2}', expected_etag="old")]
            )
        )
        after = asyncio.create_task(driver.write([write("after")]))
        await asyncio.sleep(0.05)
        other.execute("ROLLBACK")
        outcomes = await asyncio.gather(waiting, before, stale, after, return_exceptions=True)

    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], EtagMismatch)
    assert statements.count("COMMIT") == 2  # the first write's, then one for the other three
    rows = {row[0]: row[1] for row in await driver.read(["before", "also-in-stale", "after"])}
    assert set(rows) == {"before", "after"}
    assert [row[1] for row in await driver.read(["existing"])] == ['{"v": 1}']


async def test_a_failed_commit_fails_every_write_in_it_and_the_next_one_works(
    driver: SqliteDriver,
    statements: list[str],
    write_lock: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 0)  # "database is locked" at once

    outcomes = await asyncio.gather(
        *(driver.write([write(f"lost-{n}")]) for n in range(3)), return_exceptions=True
    )
    write_lock.execute("ROLLBACK")
    await driver.write([write("later")])

    assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in outcomes)
    assert [row[0] for row in await driver.read(["lost-0", "lost-1", "lost-2", "later"])] == [
        "later"
    ]


async def test_a_read_does_not_wait_for_a_write_that_waits_for_its_commit(
    driver: SqliteDriver, statements: list[str], write_lock: sqlite3.Connection
) -> None:
    waiting = await first_commit_waiting(driver, statements)

    rows = await asyncio.wait_for(driver.read(["first"]), timeout=1.0)

    assert rows == []
    assert not waiting.done()
    write_lock.execute("ROLLBACK")
    await waiting
    assert [row[0] for row in await driver.read(["first"])] == ["first"]


async def test_closing_lets_queued_writes_reach_the_database_first(
    sqlite_url: str, statements: list[str]
) -> None:
    engine = db.create_engine(sqlite_url)
    driver = driver_for(engine)
    writes = [asyncio.create_task(driver.write([write(f"late-{n}")])) for n in range(5)]
    await asyncio.sleep(0)

    await close_driver(engine)
    await asyncio.gather(*writes)
    await engine.dispose()

    with sqlite3.connect(str(engine.url.database)) as check:
        stored = check.execute("SELECT count(*) FROM bot_state WHERE key LIKE 'late-%'").fetchone()
    assert stored == (5,)


async def test_a_read_runs_on_the_loop_without_a_hand_off(
    driver: SqliteDriver, statement_threads: list[tuple[str, int]]
) -> None:
    await driver.write([write("here", '{"v": 1}')])
    await driver.read(["here"])  # the first read opens the loop's connection in a thread
    statement_threads.clear()

    rows = await driver.read(["here"])

    assert [row[:2] for row in rows] == [("here", '{"v": 1}')]
    reads = [thread for sql, thread in statement_threads if sql.startswith("SELECT")]
    assert reads == [threading.get_ident()]


async def test_a_read_the_loop_finds_locked_is_done_in_its_thread(
    driver: SqliteDriver,
    statement_threads: list[tuple[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A WAL reader meets a lock only in rare moments (another process holding the database
    # exclusively, SQLite rebuilding its WAL index), which a test in one process cannot bring
    # about while the driver's own connections are open: the loop's read is told it met one.
    await driver.write([write("kept", '{"v": 1}')])
    await driver.read(["kept"])
    statement_threads.clear()
    fetch = state_drivers._fetch
    loop_thread = threading.get_ident()

    def locked_on_the_loop(db: sqlite3.Connection, sql: str, params: list[str]) -> Any:
        if threading.get_ident() == loop_thread:
            locked = sqlite3.OperationalError("database is locked")
            locked.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise locked
        return fetch(db, sql, params)

    monkeypatch.setattr(state_drivers, "_fetch", locked_on_the_loop)

    rows = await driver.read(["kept"])

    assert [row[:2] for row in rows] == [("kept", '{"v": 1}')]
    reads = [thread for sql, thread in statement_threads if sql.startswith("SELECT")]
    assert len(reads) == 1 and reads[0] != loop_thread


async def test_postgres_connections_go_back_to_the_pool_without_a_reset_round_trip(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    # RESET ALL` every time a connection goes back: a round trip for each read and each write.
    sent: list[str] = []
    reset_query = asyncpg.Connection.get_reset_query

    def recorded(connection: asyncpg.Connection) -> str:
        query: str = reset_query(connection)
        sent.append(query)
        return query

    monkeypatch.setattr(asyncpg.Connection, "get_reset_query", recorded)
    engine = db.create_engine(postgres_url)
    driver = driver_for(engine)
    try:
        await driver.write([write("pg-one")])
        await driver.write([write("pg-two"), write("pg-three")])
        rows = await driver.read(["pg-one", "pg-two", "pg-three"])
    finally:
        await close_driver(engine)
        await engine.dispose()

    assert sorted(row[0] for row in rows) == ["pg-one", "pg-three", "pg-two"]
    assert sent == []


@pytest.fixture
async def pg_driver(postgres_url: str) -> AsyncIterator[PostgresDriver]:
    engine = db.create_engine(postgres_url)
    driver = driver_for(engine)
    assert isinstance(driver, PostgresDriver)
    yield driver
    await close_driver(engine)
    await engine.dispose()


@pytest.fixture
def pg_statements(pg_driver: PostgresDriver, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first words of every statement the PostgreSQL driver sends through its pool."""
    sent: list[str] = []
    for name in ("execute", "fetch"):
        original = getattr(asyncpg.Connection, name)

        async def recorded(
            self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any
        ) -> Any:
            sent.append(" ".join(query.split()[:2]))
            return await _original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, name, recorded)
    return sent


async def test_postgres_reads_at_the_same_time_share_a_statement(
    pg_driver: PostgresDriver, pg_statements: list[str]
) -> None:
    await pg_driver.write([write(f"r{n}", f'{{"n": {n}}}') for n in range(6)])
    pg_statements.clear()

    reads = await asyncio.gather(*(pg_driver.read([f"r{n}", "missing"]) for n in range(6)))

    assert [[row[:2] for row in rows] for rows in reads] == [
        [(f"r{n}", f'{{"n": {n}}}')] for n in range(6)
    ]
    assert pg_statements == ["SELECT key,"]


async def test_postgres_writes_at_the_same_time_share_a_statement_and_keep_their_own_outcome(
    pg_driver: PostgresDriver, pg_statements: list[str]
) -> None:
    await pg_driver.write([write("a", "1"), write("b", "1")])
    pg_statements.clear()

    outcomes = await asyncio.gather(
        pg_driver.write([write("a", "2", expected_etag="etag-a-1")]),
        pg_driver.write([write("b", "2", expected_etag="stale")]),
        pg_driver.write([write("c", "1")]),
        pg_driver.write([write("gone", "1", expected_etag="etag-gone-0")]),
        return_exceptions=True,
    )

    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], EtagMismatch) and outcomes[1].key == "b"
    assert isinstance(outcomes[3], EtagMismatch) and outcomes[3].key == "gone"
    rows = {row[0]: row[1] for row in await pg_driver.read(["a", "b", "c", "gone"])}
    assert rows == {"a": "2", "b": "1", "c": "1"}
    assert sorted(pg_statements) == ["INSERT INTO", "SELECT key,", "UPDATE bot_state"]


async def test_postgres_two_writes_of_one_key_at_the_same_time_cannot_both_win(
    pg_driver: PostgresDriver,
) -> None:
    await pg_driver.write([write("same", "1")])

    outcomes = await asyncio.gather(
        *(
            pg_driver.write([write("same", f"2-{n}", expected_etag="etag-same-1")])
            for n in range(3)
        ),
        return_exceptions=True,
    )

    assert sum(outcome is None for outcome in outcomes) == 1
    assert sum(isinstance(outcome, EtagMismatch) for outcome in outcomes) == 2
    [(_, data, etag)] = await pg_driver.read(["same"])
    assert etag == f"etag-same-{data}"


async def test_postgres_a_failed_statement_fails_only_the_writes_in_it(
    pg_driver: PostgresDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await pg_driver.write([write("kept", "1")])

    async def broken(*_: Any) -> set[str]:
        raise asyncpg.InterfaceError("connection lost")

    monkeypatch.setattr(pg_driver, "_update_rows", broken)
    outcomes = await asyncio.gather(
        pg_driver.write([write("kept", "2", expected_etag="etag-kept-1")]),
        pg_driver.write([write("new", "1")]),
        return_exceptions=True,
    )
    monkeypatch.undo()

    assert isinstance(outcomes[0], asyncpg.InterfaceError)
    assert outcomes[1] is None
    assert {row[0]: row[1] for row in await pg_driver.read(["kept", "new"])} == {
        "kept": "1",
        "new": "1",
    }
    await pg_driver.write([write("kept", "3", expected_etag="etag-kept-1")])  # and it goes on


async def test_postgres_a_connection_the_server_ended_is_replaced_for_the_next_batch(
    pg_driver: PostgresDriver, postgres_url: str
) -> None:
    await pg_driver.write([write("kept", "1")])
    assert [row[:2] for row in await pg_driver.read(["kept"])] == [("kept", "1")]
    held = [pg_driver._reader._connection, pg_driver._writer._connection]
    assert all(connection is not None for connection in held)

    admin = await asyncpg.connect(
        make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        ended = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity, "
            "LATERAL pg_terminate_backend(pid) WHERE pid = ANY($1::int[])",
            [connection.get_server_pid() for connection in held],
        )
    finally:
        await admin.close()
    assert ended == 2
    await until(lambda: not any(state_drivers._open(connection) for connection in held))

    await pg_driver.write([write("kept", "2", expected_etag="etag-kept-1")])
    assert [row[:2] for row in await pg_driver.read(["kept"])] == [("kept", "2")]
