"""The tables, as SQLAlchemy 2 typed declarative models.

Migrations under `storage/migrations/versions/` are hand-written to match these models; a test
compares the two on SQLite and PostgreSQL. Later tables (help requests, registrations) are added
here with their own migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Boolean, Index, Integer, MetaData, String, Text, UniqueConstraint
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
    # Set when Teams answered 403 or 404 to a proactive message (blocked, app removed); the
    # outbox stops trying until the next turn from this conversation clears it (the upsert).
    unreachable_since: Mapped[datetime | None] = mapped_column(default=None)


class OutboxMessage(Base):
    """One proactive message: to whom, what to render, when, and what became of it.

    The recipient is a conversation reference by (scope, owner), looked up when the message is
    sent, so a reference that changed in between is used as it is then; a person (scope
    personal, owner their aadObjectId) without one gets a new personal conversation. `action`
    is "send" (a new message or channel post), "reply" (in the thread of the message queued
    under `target_key`) or "update" (edit the activity the message under `target_key` created).
    The text and cards are rendered when the message is sent, in the recipient's language.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_state_due_at", "state", "due_at"),
        Index("ix_outbox_recipient", "recipient_scope", "recipient_owner", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    recipient_scope: Mapped[str] = mapped_column(String)
    recipient_owner: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String, default="send")
    target_key: Mapped[str | None] = mapped_column(String, default=None)
    template: Mapped[str] = mapped_column(String)
    data: Mapped[str] = mapped_column(Text)  # JSON: the template's values
    due_at: Mapped[datetime] = mapped_column()
    # pending, then one of sent, failed, unreachable, skipped.
    state: Mapped[str] = mapped_column(String, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(String, default=None)  # why failed or skipped
    conversation_id: Mapped[str | None] = mapped_column(String, default=None)
    activity_id: Mapped[str | None] = mapped_column(String, default=None)  # what it created
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class ReminderPreference(Base):
    """Whether a person wants reminders; no row means they do."""

    __tablename__ = "reminder_preferences"

    aad_object_id: Mapped[str] = mapped_column(String, primary_key=True)
    reminders_on: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
