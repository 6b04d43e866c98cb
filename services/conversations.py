"""Where the bot can reach a user or a channel later: conversation references, kept current."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class ConversationScope(StrEnum):
    """Teams' conversation types; a `ConversationRecord.scope` is one of these."""

    PERSONAL = "personal"
    CHANNEL = "channel"
    GROUP_CHAT = "groupChat"


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationRecord:
    """A stored conversation reference, free of Bot Framework types.

    `owner` is the user's Entra aadObjectId in a personal chat and the conversation id in a
    channel or group chat, so there is one record per user and one per channel or group chat.
    `reference` is the serialised Bot Framework ConversationReference, as plain JSON data.
    """

    scope: str
    owner: str
    tenant_id: str | None
    channel_id: str
    service_url: str
    conversation_id: str
    bot_id: str | None
    locale: str | None
    reference: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        for name in ("scope", "owner", "service_url", "conversation_id"):
            if not getattr(self, name):
                raise ValueError(f"a conversation record needs a {name}")


class ConversationWrites(Protocol):
    """What storing a conversation reference needs of a repository; never commits."""

    async def upsert(self, record: ConversationRecord) -> None:
        """Insert the record, or replace the one with the same scope and owner."""
        ...


class ConversationRepository(ConversationWrites, Protocol):
    """The stored conversation references; never commits."""

    async def get(self, *, scope: str, owner: str) -> ConversationRecord | None:
        """The record for this scope and owner, if any."""
        ...


class ConversationUnitOfWork(Protocol):
    """An entered unit of work with the conversation references; nothing is kept until commit."""

    @property
    def conversations(self) -> ConversationRepository: ...

    async def commit(self) -> None: ...


class ConversationWritesUnitOfWork(Protocol):
    """An entered unit of work that can store conversation references; kept at commit."""

    @property
    def conversations(self) -> ConversationWrites: ...

    async def commit(self) -> None: ...


async def remember_conversation(
    *, uow: ConversationWritesUnitOfWork, reference: ConversationRecord
) -> None:
    """Store or refresh where the bot can reach this user or channel, and commit."""
    # One atomic upsert: two first messages of one user at the same time give one row, no error.
    await uow.conversations.upsert(reference)
    await uow.commit()


async def find_conversation(
    *, uow: ConversationUnitOfWork, scope: str, owner: str
) -> ConversationRecord | None:
    """The stored reference for this scope and owner (aadObjectId or conversation id), if any."""
    return await uow.conversations.get(scope=scope, owner=owner)
