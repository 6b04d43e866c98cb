"""Engines are configured for their database, and readiness pings never raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.bot_state import SqlStorage
from storage.db import SQLITE_BUSY_TIMEOUT_MS, create_engine, ping
from storage.models import BotStateItem
from storage.types import UtcDateTime


async def test_sqlite_engine_creates_the_folder_and_sets_its_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/not/yet/there.db")
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
    finally:
        await engine.dispose()

    assert pragmas == ["wal", SQLITE_BUSY_TIMEOUT_MS, 1]
    assert (tmp_path / "not" / "yet").is_dir()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///plain-driver.db",
        "postgresql://user:geheim@db/wegwijzer",
        "mysql+aiomysql://user:geheim@db/wegwijzer",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
    ],
)
def test_unsupported_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        create_engine(url)

    assert "geheim" not in str(refused.value)


async def test_ping_is_true_when_the_database_answers(db_engine: AsyncEngine) -> None:
    assert await ping(db_engine) is True


async def test_ping_is_false_when_the_server_is_unreachable() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        assert await ping(engine) is False
    finally:
        await engine.dispose()


async def test_transactions_roll_back_as_a_whole(db_engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with db_engine.begin() as connection:
            await connection.execute(
                insert(BotStateItem).values(
                    key="k", data="{}", etag="e", updated_at=datetime.now(UTC)
                )
            )
            raise RuntimeError("fails halfway")

    assert await SqlStorage(db_engine).read(["k"]) == {}


async def test_timestamps_are_stored_in_utc_and_read_back_aware(db_engine: AsyncEngine) -> None:
    amsterdam_summer = timezone(timedelta(hours=2))
    written = datetime(2025, 6, 1, 14, 0, tzinfo=amsterdam_summer)
    async with db_engine.begin() as connection:
        await connection.execute(
            insert(BotStateItem).values(key="k", data="{}", etag="e", updated_at=written)
        )
        read = (await connection.execute(select(BotStateItem.updated_at))).scalar_one()

    assert read == written
    assert read.tzinfo is UTC


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        UtcDateTime().process_bind_param(datetime(2025, 6, 1, 12, 0), dialect=None)  # type: ignore[arg-type]
