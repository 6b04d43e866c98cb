"""The shipped migrations build exactly the models' schema, and upgrading is safe to repeat."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Base

HEAD = ScriptDirectory.from_config(alembic_config("unused")).get_current_head()


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _inspect(url: str) -> tuple[list[object], str | None, set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
            revision = await connection.run_sync(_revision)
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return differences, revision, tables


async def test_migrated_schema_matches_the_models(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        assert await connection.run_sync(_schema_differences) == []
        assert await connection.run_sync(_revision) == HEAD


async def test_upgrading_an_up_to_date_database_changes_nothing(db_url: str) -> None:
    await asyncio.to_thread(upgrade, db_url)
    await asyncio.to_thread(upgrade, db_url)

    differences, revision, _ = await _inspect(db_url)
    assert (differences, revision) == ([], HEAD)


async def test_upgrade_creates_a_new_sqlite_file_and_its_folder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/data/new/wegwijzer.db"

    await asyncio.to_thread(upgrade, url)

    differences, revision, _ = await _inspect(url)
    assert (differences, revision) == ([], HEAD)


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/wegwijzer.db"
    await asyncio.to_thread(upgrade, url)

    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")
    _, revision, tables = await _inspect(url)
    assert (revision, tables) == (None, {"alembic_version"})

    await asyncio.to_thread(upgrade, url)
    differences, revision, _ = await _inspect(url)
    assert (differences, revision) == ([], HEAD)


# An instance that has imported everything, says so, and migrates when told to go.
INSTANCE = """
import sys
from storage.migrate import upgrade
print("ready", flush=True)
sys.stdin.readline()
upgrade(sys.argv[1])
"""


async def test_instances_upgrading_a_fresh_postgres_database_at_once_all_succeed(
    empty_postgres_url: str,
) -> None:
    # Separate processes, like bot instances starting together, let go at the same moment.
    pipe = asyncio.subprocess.PIPE
    instances = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", INSTANCE, empty_postgres_url, stdin=pipe, stdout=pipe, stderr=pipe
        )
        for _ in range(3)
    ]
    for instance in instances:
        assert instance.stdout is not None
        assert await asyncio.wait_for(instance.stdout.readline(), timeout=30) == b"ready\n"
    outputs = await asyncio.wait_for(
        asyncio.gather(*(instance.communicate(b"go\n") for instance in instances)), timeout=60
    )

    assert [instance.returncode for instance in instances] == [0, 0, 0], outputs
    differences, revision, _ = await _inspect(empty_postgres_url)
    assert (differences, revision) == ([], HEAD)


async def test_threads_upgrading_at_once_take_turns(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/wegwijzer.db"

    await asyncio.gather(*(asyncio.to_thread(upgrade, url) for _ in range(3)))

    differences, revision, _ = await _inspect(url)
    assert (differences, revision) == ([], HEAD)


async def test_upgrade_refuses_to_block_a_running_event_loop(sqlite_url: str) -> None:
    with pytest.raises(RuntimeError, match="to_thread"):
        upgrade(sqlite_url)
