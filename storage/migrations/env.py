"""Alembic environment: runs the migrations through the engines of `storage.db`.

Configured by `storage.migrate`, which puts the database URL in `config.attributes["url"]`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from storage.db import create_engine
from storage.models import Base

# Instances that start together all call upgrade; on PostgreSQL they take this advisory lock so
# one migrates and the others then find the database up to date, instead of racing CREATE TABLE.
MIGRATION_LOCK_KEY = int.from_bytes(b"wegwijzr", "big")

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Write the SQL to the output instead of running it (`upgrade(..., sql=True)`)."""
    context.configure(
        url=config.attributes["url"],
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can roll back DDL too (storage.db begins every transaction explicitly), so the
        # whole upgrade is all or nothing on both databases.
        transactional_ddl=True,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Before Alembic reads the current revision, so a waiting instance reads the new one.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_engine(url, timeouts=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    # A private loop: asyncio.run would also clear the calling thread's current event loop.
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        runner.run(run_async_migrations(config.attributes["url"]))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
