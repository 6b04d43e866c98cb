"""Apply the Alembic migrations that ship inside this package; no alembic.ini needed.

`wegwijzer db upgrade` calls `upgrade`. It blocks: from async code use
`await asyncio.to_thread(upgrade, url)`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from asyncpg import PostgresError
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from storage.db import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic keeps the running migration context in module globals: one upgrade per process at a
# time. Instances (processes) are kept apart by a database lock in env.py.
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at `url`, built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Not a main option: those go through configparser, which reads "%" in a password as syntax.
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`; does nothing when it is already there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with _ONE_AT_A_TIME:
            command.upgrade(alembic_config(url), revision)
        return
    raise RuntimeError("upgrade() blocks; from async code use asyncio.to_thread(upgrade, url)")


@dataclass(frozen=True)
class Behind:
    """A database that lacks migrations of this version: where it is, and where it must be."""

    current: tuple[str, ...]  # empty: never migrated
    head: tuple[str, ...]


# How long `behind` waits for the database before it leaves the question to /readyz.
BEHIND_TIMEOUT_SECONDS = 5.0


def behind(url: str) -> Behind | None:
    """The database's revisions when this version has migrations it lacks, else None.

    None too when the database cannot be reached (readiness says so) or is ahead of this version
    (a newer release migrated it, and this one still runs during its rollout). Blocks.
    """
    script = ScriptDirectory.from_config(alembic_config(url))
    head = tuple(sorted(script.get_heads()))
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        try:
            current = runner.run(_current_revisions(url))
        except (OSError, TimeoutError, PostgresError, DBAPIError):  # not reachable, or refused
            return None
    ours = {revision.revision for revision in script.walk_revisions()}
    if current == head or not set(current) <= ours:
        return None
    return Behind(current, head)


async def _current_revisions(url: str) -> tuple[str, ...]:
    engine = create_engine(url, pool_size=3)
    try:
        async with asyncio.timeout(BEHIND_TIMEOUT_SECONDS), engine.connect() as connection:
            return await connection.run_sync(_revisions)
    finally:
        await engine.dispose()


def _revisions(connection: Connection) -> tuple[str, ...]:
    # Alembic announces its context at INFO; a start-up check is not a migration.
    announcer = logging.getLogger("alembic.runtime.migration")
    level = announcer.level
    announcer.setLevel(logging.WARNING)
    try:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    finally:
        announcer.setLevel(level)
