"""The tables, as SQLAlchemy 2 typed declarative models.

Migrations under `storage/migrations/versions/` are hand-written to match these models; a test
compares the two on SQLite and PostgreSQL. Later tables (help requests, registrations, outbox)
are added here with their own migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UtcDateTime, utcnow

# Named constraints make migrations reproducible: the names are the same on every database,
# so a later migration can drop or alter them (SQLite batch mode needs names too).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class BotStateItem(Base):
    """One Bot Framework state document (a dialog stack, conversation or user state)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # jsonpickle-flattened JSON, without the eTag
    etag: Mapped[str] = mapped_column(String)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationReferenceRecord(Base):
    """Where the bot can reach someone later: one row per user, channel or group chat.

    `owner` is the user's Entra `aadObjectId` in a personal chat (names change, ids do not) and
    the conversation id in a channel or group chat.
    """

    __tablename__ = "conversation_references"
    __table_args__ = (UniqueConstraint("scope", "owner"),)

    # A surrogate key, so later tables (the outbox) can point at a conversation.
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String)
    owner: Mapped[str] = mapped_column(String)
    tenant_id: Mapped[str | None] = mapped_column(String)
    channel_id: Mapped[str] = mapped_column(String)
    service_url: Mapped[str] = mapped_column(String)
    conversation_id: Mapped[str] = mapped_column(String)
    bot_id: Mapped[str | None] = mapped_column(String)
    locale: Mapped[str | None] = mapped_column(String)
    reference: Mapped[str] = mapped_column(Text)  # the serialised ConversationReference, as JSON
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
