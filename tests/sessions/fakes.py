"""Session test helpers: the real unit of work, and a reader of what it queued in the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.session_types import Applicant
from storage.models import OutboxMessage
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Queued:
    recipient: str
    template: str
    data: dict[str, Any]
    key: str
    due_at: datetime
    urgent: bool
    kind: str


class OutboxReader:
    """The outbox's pending messages (committed, not cancelled), oldest first."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def pending(self) -> list[Queued]:
        async with self._session_factory() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.state == "pending")
                .order_by(OutboxMessage.id)
            )
            return [
                Queued(
                    row.recipient_owner,
                    row.template,
                    json.loads(row.data),
                    row.idempotency_key,
                    row.due_at,
                    row.kind == "urgent",
                    row.kind,
                )
                for row in rows
            ]

    async def to(self, person: str, template: str | None = None) -> list[Queued]:
        return [
            q
            for q in await self.pending()
            if q.recipient == person and (template is None or q.template == template)
        ]


def SessionsUoW(session_factory: async_sessionmaker[AsyncSession], _: object = None) -> UnitOfWork:
    return UnitOfWork(session_factory)


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

__all__ = ["NOW", "OutboxReader", "Queued", "SessionsUoW", "applicant"]
