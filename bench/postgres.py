"""A fresh PostgreSQL database for each benchmark run."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped,unused-ignore]

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "wegwijzer_bench"
DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"
CONNECT_TIMEOUT_SECONDS = 3.0


async def recreate_database() -> str | None:
    """Drop and create the benchmark database; return why not when PostgreSQL is unreachable."""
    try:
        connection = await asyncpg.connect(ADMIN_DSN, timeout=CONNECT_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {ADMIN_DSN} is unreachable ({type(error).__name__}: {error})"
    try:
        # WITH (FORCE) ends sessions a previous, interrupted run may have left behind.
        await connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {DATABASE}")
    except asyncpg.PostgresError as error:
        return f"could not recreate database {DATABASE} ({type(error).__name__}: {error})"
    finally:
        await connection.close()
    return None
