"""The unit of work: one session, one transaction, and the repositories bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import writer_turn
from storage.outbox import SqlOutboxRepository, SqlReminderPreferences
from storage.repositories import SqlConversationRepository, conversation_row
from storage.state_drivers import driver_for

if TYPE_CHECKING:
    from services.conversations import (
        ConversationRecord,
        ConversationUnitOfWork,
        ConversationWritesUnitOfWork,
    )
    from services.outbox import OutboxUnitOfWork, PreferencesUnitOfWork


class UnitOfWork:
    """`async with UnitOfWork(session_factory) as uow:` ... `await uow.commit()`.

    Repositories never commit; the unit of work does, when the service says so. Whatever is not
    committed when the block ends, normally or by an exception, is rolled back. Create one per
    task: a unit of work is not shared between concurrent turns.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self._conversations: SqlConversationRepository | None = None
        bind = session_factory.kw.get("bind")
        self._writer_turn = writer_turn(bind) if isinstance(bind, AsyncEngine) else None

    @property
    def conversations(self) -> SqlConversationRepository:
        if self._conversations is None:
            raise RuntimeError("enter the unit of work (async with) before using it")
        return self._conversations

    @property
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self._active_session())

    @property
    def reminder_preferences(self) -> SqlReminderPreferences:
        return SqlReminderPreferences(self._active_session())

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use; create one per task")
        if self._writer_turn is not None:
            # A unit of work is there to write: on SQLite it waits its turn among writers.
            await self._writer_turn.__aenter__()
        self._session = self._session_factory()
        self._conversations = SqlConversationRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session, self._conversations = self._session, None, None
        try:
            if session is not None:
                # Closing rolls back whatever was not committed and returns the connection.
                await session.close()
        finally:
            if self._writer_turn is not None and session is not None:
                await self._writer_turn.__aexit__(exc_type, exc, traceback)

    async def commit(self) -> None:
        """Make everything done in this unit of work permanent."""
        await self._active_session().commit()

    async def rollback(self) -> None:
        """Discard everything done since the last commit."""
        await self._active_session().rollback()

    def _active_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("enter the unit of work (async with) before using it")
        return self._session


class TurnUnitOfWork:
    """The unit of work a turn stores its conversation reference in, on the state's driver.

    A new user's first turn stores where the bot can reach them. Through a SQLAlchemy session
    (connection checkout, transaction, commit, each with its hand-offs) that cost the event loop
    about half a millisecond, as much as the rest of the turn. Here the upsert goes to the
    driver that writes the bot state: on SQLite it joins the state's next group commit, on
    PostgreSQL it shares a statement with the upserts of other turns. The rows are written at
    commit, all or none; what is not committed when the block ends is dropped.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._staged: list[dict[str, Any]] | None = None

    @property
    def conversations(self) -> TurnUnitOfWork:
        """Upserts staged in this unit of work (`upsert(record)`), written at commit."""
        self._active()
        return self

    async def upsert(self, record: ConversationRecord) -> None:
        self._active().append(conversation_row(record))

    async def __aenter__(self) -> Self:
        if self._staged is not None:
            raise RuntimeError("this unit of work is already in use; create one per task")
        self._staged = []
        return self

    async def __aexit__(self, *_: object) -> None:
        self._staged = None

    async def commit(self) -> None:
        staged = self._active()
        if staged:
            await driver_for(self._engine).upsert_conversations(list(staged))
            staged.clear()

    def _active(self) -> list[dict[str, Any]]:
        if self._staged is None:
            raise RuntimeError("enter the unit of work (async with) before using it")
        return self._staged


if TYPE_CHECKING:
    # mypy proves here that the SQL unit of work is what the services expect.
    def _satisfies_service_protocol(uow: UnitOfWork) -> ConversationUnitOfWork:
        return uow

    def _stores_conversations(uow: TurnUnitOfWork) -> ConversationWritesUnitOfWork:
        return uow

    def _queues_messages(uow: UnitOfWork) -> OutboxUnitOfWork:
        return uow

    def _keeps_preferences(uow: UnitOfWork) -> PreferencesUnitOfWork:
        return uow
