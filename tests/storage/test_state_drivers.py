"""The state driver: on the engine's own pool, reads and writes made at the same time shared.

Each test runs on SQLite and on PostgreSQL (`db_engine`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import db
from storage.state_drivers import EtagMismatch, StateDriver, Write, close_driver, driver_for
from storage.uow import UnitOfWork

WAIT_S = 5.0


def write(key: str, data: str = "{}", *, expected_etag: str | None = None) -> Write:
    return Write(key, data, f"etag-{key}-{data}", expected_etag, datetime.now(UTC))


async def until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the driver never got there"
        await asyncio.sleep(0.01)


@pytest.fixture
def driver(db_engine: AsyncEngine) -> StateDriver:
    return driver_for(db_engine)


@pytest.fixture
def calls(driver: StateDriver, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each statement the driver runs: its kind and how many rows or keys it carries."""
    seen: list[tuple[str, int]] = []
    dialect = driver._dialect
    for name in ("fetch", "upsert", "update"):
        method = getattr(dialect, name)

        def traced(db: Any, rows: list[Any], _method: Any = method, _name: str = name) -> Any:
            seen.append((_name, len(rows)))
            return _method(db, rows)

        monkeypatch.setattr(dialect, name, traced)
    return seen


async def test_the_state_uses_the_engines_pool_and_keeps_two_connections(
    db_engine: AsyncEngine, driver: StateDriver
) -> None:
    await driver.write([write("a")])
    assert [row[:2] for row in await driver.read(["a"])] == [("a", "{}")]
    assert db_engine.pool.checkedout() == 2  # type: ignore[attr-defined]
    await close_driver(db_engine)
    assert db_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_one_instance_never_opens_more_connections_than_its_pool_size(
    postgres_url: str,
) -> None:
    engine = db.create_engine(postgres_url, pool_size=4)
    sessions = db.create_session_factory(engine)
    driver = driver_for(engine)

    async def unit_of_work() -> None:
        async with UnitOfWork(sessions) as uow, uow._active_session().begin_nested():
            await asyncio.sleep(0.01)

    try:
        await asyncio.gather(
            *(driver.write([write(f"k{n}")]) for n in range(50)),
            *(driver.read([f"k{n}"]) for n in range(50)),
            *(unit_of_work() for _ in range(10)),
        )
        async with engine.connect() as connection:
            opened = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'wegwijzer'"
                )
            )
        assert opened is not None and opened <= 4
    finally:
        await close_driver(engine)
        await engine.dispose()


async def test_reads_at_the_same_time_share_a_statement(
    driver: StateDriver, calls: list[tuple[str, int]]
) -> None:
    await driver.write([write("a"), write("b")])
    calls.clear()

    found = await asyncio.gather(driver.read(["a"]), driver.read(["b", "a"]), driver.read(["x"]))

    assert [[row[0] for row in rows] for rows in found] == [["a"], ["b", "a"], []]
    assert calls == [("fetch", 3)]  # one statement for the three keys


async def test_writes_at_the_same_time_share_a_statement_and_keep_their_own_outcome(
    driver: StateDriver, calls: list[tuple[str, int]]
) -> None:
    await driver.write([write("a", "1"), write("b", "1")])
    await driver.write([write("first")])
    calls.clear()

    outcomes = await asyncio.gather(
        driver.write([write("first", "2")]),
        driver.write([write("a", "2", expected_etag="etag-a-1")]),
        driver.write([write("b", "2", expected_etag="stale")]),
        driver.write([write("c", "1")]),
        driver.write([write("gone", "1", expected_etag="etag-gone-0")]),
        return_exceptions=True,
    )

    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], EtagMismatch) and outcomes[2].key == "b"
    assert isinstance(outcomes[4], EtagMismatch) and outcomes[4].key == "gone"
    rows = {row[0]: row[1] for row in await driver.read(["a", "b", "c", "gone"])}
    assert rows == {"a": "2", "b": "1", "c": "1"}
    # Five writes, one upsert and one update.
    assert sorted(calls) == [("fetch", 4), ("update", 3), ("upsert", 2)]


async def test_two_writes_of_one_key_at_the_same_time_cannot_both_win(
    driver: StateDriver,
) -> None:
    await driver.write([write("same", "1")])

    outcomes = await asyncio.gather(
        *(driver.write([write("same", f"2-{n}", expected_etag="etag-same-1")]) for n in range(3)),
        return_exceptions=True,
    )

    assert sum(outcome is None for outcome in outcomes) == 1
    assert sum(isinstance(outcome, EtagMismatch) for outcome in outcomes) == 2
    [(_, data, etag)] = await driver.read(["same"])
    assert etag == f"etag-same-{data}"


async def test_a_failed_batch_fails_its_writes_and_the_next_one_works(
    driver: StateDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await driver.write([write("kept", "1")])

    async def broken(*_: Any) -> set[str]:
        raise OSError("connection lost")

    monkeypatch.setattr(driver._dialect, "update", broken)
    with pytest.raises(OSError):
        await driver.write([write("kept", "2", expected_etag="etag-kept-1")])
    monkeypatch.undo()

    assert [row[:2] for row in await driver.read(["kept"])] == [("kept", "1")]
    await driver.write([write("kept", "3", expected_etag="etag-kept-1")])
    assert [row[:2] for row in await driver.read(["kept"])] == [("kept", "3")]


async def test_closing_lets_queued_writes_reach_the_database_first(db_engine: AsyncEngine) -> None:
    driver = driver_for(db_engine)
    writes = [asyncio.create_task(driver.write([write(f"k{n}")])) for n in range(10)]
    await asyncio.sleep(0)
    await close_driver(db_engine)
    await asyncio.gather(*writes)

    found = await driver_for(db_engine).read([f"k{n}" for n in range(10)])
    assert len(found) == 10


async def test_a_postgres_connection_the_server_ended_is_replaced_for_the_next_batch(
    postgres_url: str,
) -> None:
    engine = db.create_engine(postgres_url)
    driver = driver_for(engine)
    try:
        await driver.write([write("kept", "1")])
        assert [row[:2] for row in await driver.read(["kept"])] == [("kept", "1")]
        held = []
        for holder in (driver._reader, driver._writer):
            assert holder._connection is not None
            raw = await holder._connection.get_raw_connection()
            held.append(raw.driver_connection)

        admin = await asyncpg.connect(
            make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
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
        await until(lambda: all(connection.is_closed() for connection in held))

        await driver.write([write("kept", "2", expected_etag="etag-kept-1")])
        assert [row[:2] for row in await driver.read(["kept"])] == [("kept", "2")]
    finally:
        await close_driver(engine)
        await engine.dispose()


async def test_one_bad_row_does_not_fail_the_reads_and_writes_batched_with_it(
    driver: StateDriver,
) -> None:
    # PostgreSQL refuses a NUL character in text; SQLite stores it. Either way the others pass.
    await driver.write([write("a"), write("b")])

    found = await asyncio.gather(
        driver.read(["a"]), driver.read(["bad\x00key"]), driver.read(["b"]), return_exceptions=True
    )
    assert [row[0] for row in found[0]] == ["a"]  # type: ignore[union-attr]
    assert [row[0] for row in found[2]] == ["b"]  # type: ignore[union-attr]

    outcomes = await asyncio.gather(
        driver.write([write("c")]),
        driver.write([write("d", "bad\x00data")]),
        driver.write([write("e")]),
        return_exceptions=True,
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert {row[0] for row in await driver.read(["c", "e"])} == {"c", "e"}
