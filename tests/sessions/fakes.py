"""A unit of work for session tests: the real SQL repositories, and an outbox that records.

The outbox's rows join the transaction: what is queued is kept only when the unit of work
commits, as with the real outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.session_types import Applicant
from storage.sessions import SqlSessionRepository
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Queued:
    recipient: str
    template: str
    data: Mapping[str, Any]
    key: str
    due_at: datetime
    urgent: bool
    kind: str


@dataclass
class RecordingOutbox:
    """The committed messages of every unit of work (shared by concurrent ones)."""

    queued: list[Queued] = field(default_factory=list)

    def to(self, person: str, template: str | None = None) -> list[Queued]:
        return [
            q
            for q in self.queued
            if q.recipient == person and (template is None or q.template == template)
        ]


@dataclass
class _TransactionOutbox:
    """One unit of work's queued and cancelled messages, applied to the log at commit."""

    log: RecordingOutbox
    pending: list[Queued] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)

    async def queue(
        self,
        *,
        recipient: str,
        template: str,
        data: Mapping[str, Any],
        key: str,
        due_at: datetime,
        urgent: bool = False,
        kind: str = "notice",
    ) -> None:
        self.pending.append(Queued(recipient, template, dict(data), key, due_at, urgent, kind))

    async def cancel(self, *, key_prefix: str) -> None:
        self.cancels.append(key_prefix)
        self.pending = [q for q in self.pending if not q.key.startswith(key_prefix)]

    def commit(self) -> None:
        for prefix in self.cancels:
            self.log.queued = [q for q in self.log.queued if not q.key.startswith(prefix)]
        keys = {q.key for q in self.log.queued}
        for message in self.pending:
            assert message.key not in keys, f"queued twice: {message.key}"
            self.log.queued.append(message)
        self.pending, self.cancels = [], []


class SessionsUoW(UnitOfWork):
    """The SQL unit of work with a recording outbox beside it."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], outbox: RecordingOutbox
    ) -> None:
        super().__init__(session_factory)
        self._log = outbox
        self._outbox = _TransactionOutbox(outbox)

    @property
    def outbox(self) -> _TransactionOutbox:
        return self._outbox

    async def __aenter__(self) -> Self:
        self._outbox = _TransactionOutbox(self._log)
        return await super().__aenter__()

    async def commit(self) -> None:
        await super().commit()
        self._outbox.commit()


def applicant(n: int | str, *, manager: bool = True, consent: bool = True) -> Applicant:
    return Applicant(
        person=f"aad-{n}",
        name=f"Naam {n}",
        function="Teamleider",
        directorate="Belastingen",
        is_manager=manager,
        consent=consent,
    )


NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

__all__ = ["NOW", "RecordingOutbox", "SessionsUoW", "SqlSessionRepository", "applicant"]
