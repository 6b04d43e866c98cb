"""Database fixtures for every test folder.

- `sqlite_url`: a migrated SQLite database file of this test's own.
- `postgres_url`: this session's throwaway PostgreSQL database (`wegwijzer_test_<time>_<random>`,
  created from the admin URL in `TEST_DATABASE_URL_PG`, migrated once, dropped at the end), with
  every table emptied before this test. Without a reachable server the test is skipped with the
  reason, or fails when `CI` is set: CI must never skip PostgreSQL silently.
- `db_url`: parametrized over both ("sqlite", "postgres"); `db_engine` and `db_session_factory`
  build on it and are disposed after the test.
- `empty_postgres_url`: a fresh PostgreSQL database without tables, for migration tests.

Tests that use a PostgreSQL fixture get the `postgres` marker, so `-m "not postgres"` skips them.

Every async test runs on the kind of event loop the bot serves on (`bot.event_loop`: uvloop where
it is installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from bot.event_loop import event_loop_policy as serving_loop_policy
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Base
from storage.state_drivers import close_driver

ADMIN_URL_ENV = "TEST_DATABASE_URL_PG"
DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_FIXTURES = frozenset(
    {"postgres_admin_url", "postgres_database_url", "postgres_url", "empty_postgres_url"}
)

THROWAWAY_PREFIX = "wegwijzer_test_"
# The prefix, the Unix time it was created, a random part.
THROWAWAY_NAME = re.compile(rf"{THROWAWAY_PREFIX}(\d{{10}})_[0-9a-f]{{6}}")
# A killed test session never drops its databases; the next one drops them once this old.
STALE_AFTER_SECONDS = 3600

T = TypeVar("T")


@pytest.fixture(scope="session")
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    """pytest-asyncio's loops: of the kind `wegwijzer serve` runs on."""
    return serving_loop_policy()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    # A private loop: pytest-asyncio owns the thread's current one, asyncio.run would clear it.
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(coroutine)


def _autocommit_engine(url: URL) -> AsyncEngine:
    # AUTOCOMMIT: CREATE and DROP DATABASE refuse to run inside a transaction.
    return create_async_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"timeout": 5}
    )


async def _execute(url: URL, *statements: str) -> None:
    engine = _autocommit_engine(url)
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _drop_stale_databases(admin_url: URL) -> None:
    engine = _autocommit_engine(admin_url)
    try:
        async with engine.connect() as connection:
            # Without connections only: another test session may be using its database right now.
            unused = await connection.scalars(
                text(
                    "SELECT datname FROM pg_database d WHERE datname LIKE :prefix AND NOT EXISTS"
                    " (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)"
                ),
                {"prefix": THROWAWAY_PREFIX.replace("_", r"\_") + "%"},
            )
            for name in unused.all():
                created = THROWAWAY_NAME.fullmatch(name)
                if created and time.time() - int(created[1]) > STALE_AFTER_SECONDS:
                    with contextlib.suppress(DBAPIError):  # someone connected after all
                        await connection.exec_driver_sql(f'DROP DATABASE "{name}"')
    finally:
        await engine.dispose()


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url() -> URL:
    """The server's admin database URL; skips (or fails under CI) when it does not answer."""
    admin_url = make_url(os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL))
    try:
        _run(_execute(admin_url, "SELECT 1"))
    except Exception as error:
        _unavailable(
            f"PostgreSQL not reachable at {admin_url.render_as_string(hide_password=True)} "
            f"({type(error).__name__}: {error}); start it or set {ADMIN_URL_ENV}"
        )
    return admin_url


@pytest.fixture(scope="session")
def _throwaway_postgres_databases(postgres_admin_url: URL) -> Iterator[list[str]]:
    """Names of the databases this session created; all dropped at the end."""
    _run(_drop_stale_databases(postgres_admin_url))
    created: list[str] = []
    yield created
    for name in created:
        _run(_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _create_postgres_database(admin_url: URL, created: list[str]) -> str:
    name = f"{THROWAWAY_PREFIX}{int(time.time())}_{secrets.token_hex(3)}"
    _run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    created.append(name)
    return admin_url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database_url(postgres_admin_url: URL, _throwaway_postgres_databases: list[str]) -> str:
    """This session's migrated PostgreSQL database."""
    url = _create_postgres_database(postgres_admin_url, _throwaway_postgres_databases)
    upgrade(url)
    return url


@pytest.fixture
def postgres_url(postgres_database_url: str) -> str:
    """The session's PostgreSQL database, with every table emptied for this test."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    _run(_execute(make_url(postgres_database_url), f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return postgres_database_url


@pytest.fixture
def empty_postgres_url(postgres_admin_url: URL, _throwaway_postgres_databases: list[str]) -> str:
    """A new PostgreSQL database without any tables."""
    return _create_postgres_database(postgres_admin_url, _throwaway_postgres_databases)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating once and copying the file is much faster than migrating for every test.
    path = tmp_path_factory.mktemp("sqlite-template") / "wegwijzer.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database file of this test's own."""
    path = tmp_path / "wegwijzer.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `db_url`, disposed after the test."""
    engine = create_engine(db_url)
    yield engine
    await close_driver(engine)
    await engine.dispose()


@pytest.fixture
def db_session_factory(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory the application would build on `db_engine`."""
    return create_session_factory(db_engine)
