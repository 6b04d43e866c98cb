"""The unit of work: one session, one transaction, and the repositories bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.crypto import TextCipher
from storage.db import writer_turn
from storage.help_requests import SqlBureauChannelRepository, SqlHelpRequestRepository
from storage.outbox import SqlOutboxRepository, SqlReminderPreferences
from storage.repositories import SqlConversationRepository
from storage.sessions import SqlSessionRepository

if TYPE_CHECKING:
    from services.conversations import (
        ConversationUnitOfWork,
        ConversationWritesUnitOfWork,
    )
    from services.help_requests import HelpRequestUnitOfWork
    from services.outbox import OutboxUnitOfWork, PreferencesUnitOfWork
    from services.session_types import SessionRepository, SessionsUnitOfWork


class UnitOfWork:
    """`async with UnitOfWork(session_factory) as uow:` ... `await uow.commit()`.

    Repositories never commit; the unit of work does, when the service says so. Whatever is not
    committed when the block ends, normally or by an exception, is rolled back. Create one per
    task: a unit of work is not shared between concurrent turns.
    """

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, cipher: TextCipher | None = None
    ) -> None:
        self._session_factory = session_factory
        self._cipher = cipher  # for the repositories that store free text, encrypted
        self._session: AsyncSession | None = None
        self._conversations: SqlConversationRepository | None = None
        self._sessions: SqlSessionRepository | None = None
        self._help_requests: SqlHelpRequestRepository | None = None
        bind = session_factory.kw.get("bind")
        self._writer_turn = writer_turn(bind) if isinstance(bind, AsyncEngine) else None

    @property
    def conversations(self) -> SqlConversationRepository:
        if self._conversations is None:
            raise RuntimeError("enter the unit of work (async with) before using it")
        return self._conversations

    @property
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self._active_session(), self._cipher)

    @property
    def reminder_preferences(self) -> SqlReminderPreferences:
        return SqlReminderPreferences(self._active_session())

    @property
    def sessions(self) -> SqlSessionRepository:
        if self._sessions is None:
            raise RuntimeError("enter the unit of work (async with) before using it")
        return self._sessions

    @property
    def help_requests(self) -> SqlHelpRequestRepository:
        if self._help_requests is None:
            if self._cipher is None:
                raise RuntimeError("help requests need a unit of work made with a cipher")
            self._help_requests = SqlHelpRequestRepository(self._active_session(), self._cipher)
        return self._help_requests

    @property
    def bureau_channels(self) -> SqlBureauChannelRepository:
        return SqlBureauChannelRepository(self._active_session())

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use; create one per task")
        if self._writer_turn is not None:
            # A unit of work is there to write: on SQLite it waits its turn among writers.
            await self._writer_turn.__aenter__()
        self._session = self._session_factory()
        self._conversations = SqlConversationRepository(self._session)
        self._sessions = SqlSessionRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session, self._conversations = self._session, None, None
        self._sessions = None
        self._help_requests = None
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


if TYPE_CHECKING:
    # mypy proves here that the SQL unit of work is what the services expect.
    def _satisfies_service_protocol(uow: UnitOfWork) -> ConversationUnitOfWork:
        return uow

    def _stores_conversations(uow: UnitOfWork) -> ConversationWritesUnitOfWork:
        return uow

    def _queues_messages(uow: UnitOfWork) -> OutboxUnitOfWork:
        return uow

    def _keeps_preferences(uow: UnitOfWork) -> PreferencesUnitOfWork:
        return uow

    def _keeps_sessions(repository: SqlSessionRepository) -> SessionRepository:
        return repository

    def _sessions_queue_in_the_outbox(uow: UnitOfWork) -> SessionsUnitOfWork:
        return uow

    def _holds_help_requests(uow: UnitOfWork) -> HelpRequestUnitOfWork:
        return uow
