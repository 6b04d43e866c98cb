"""Fixtures for session tests: a planned wethouder conversation on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.session_messages import SessionRules
from services.session_types import AMSTERDAM, Audience, SessionDetails, SessionInfo
from storage.uow import UnitOfWork
from tests.sessions.fakes import OutboxReader, SessionsUoW

OFFERS = ("wethoudersgesprekken",)
START = datetime(2026, 10, 17, 15, 0, tzinfo=AMSTERDAM)


def details(**changes: object) -> SessionDetails:
    values: dict[str, object] = {
        "offer": "wethoudersgesprekken",
        "starts_at": START,
        "theme": "Inclusief leidinggeven na het Verwey-Jonker onderzoek",
        "questions": ("Wat merk je sinds het rapport?",),
        "location": "Amstelpark 22",
        "audience": Audience.MANAGERS,
        "signup_deadline": START - timedelta(days=3),
    }
    values.update(changes)
    return SessionDetails(**values)  # type: ignore[arg-type]


@pytest.fixture
def outbox(db_session_factory: async_sessionmaker[AsyncSession]) -> OutboxReader:
    return OutboxReader(db_session_factory)


@pytest.fixture
def uow_factory(
    db_session_factory: async_sessionmaker[AsyncSession], outbox: OutboxReader
) -> Callable[[], UnitOfWork]:
    return lambda: SessionsUoW(db_session_factory, outbox)


@pytest.fixture
def rules() -> SessionRules:
    return SessionRules()


@pytest.fixture
async def planned(uow_factory: Callable[[], UnitOfWork]) -> SessionInfo:
    from services.session_admin import create_session

    async with uow_factory() as uow:
        return await create_session(uow=uow, details=details(), offers_with_dates=OFFERS)
