"""The tables, as SQLAlchemy 2 typed declarative models.

Migrations under `storage/migrations/versions/` are hand-written to match these models; a test
compares the two on SQLite and PostgreSQL. Later tables (help requests) are added
here with their own migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
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


class OfferSession(Base):
    """A dated session of an offer (a wethouder conversation, later a training day).

    `places_taken` counts confirmed places and places offered from the waiting list; the CHECK
    keeps it within the capacity whatever the code does, so a session is never overbooked.
    `arrivals` hands out each sign-up's ticket (arrival order) under the session's row lock.
    `version` goes up with every change the participants hear about (the calendar's SEQUENCE).
    """

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("places_taken >= 0 AND places_taken <= capacity", name="places"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("duration_minutes > 0", name="duration"),
        CheckConstraint("audience IN ('everyone', 'managers')", name="audience"),
        CheckConstraint("status IN ('open', 'full', 'closed', 'cancelled', 'held')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer: Mapped[str] = mapped_column(String, index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    location: Mapped[str | None] = mapped_column(String)  # None: not known yet ("n.t.b.")
    theme: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String, default="everyone")
    capacity: Mapped[int] = mapped_column(Integer, default=8)
    signup_deadline: Mapped[datetime | None] = mapped_column()  # None: until the start
    status: Mapped[str] = mapped_column(String, default="open")
    places_taken: Mapped[int] = mapped_column(Integer, default=0)
    arrivals: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Registration(Base):
    """One person's sign-up for one session: a place, a waiting-list spot, or an offered place.

    One row per person per session (unique); signing up again after cancelling reuses it with a
    new ticket. `ticket` is the arrival number within the session: the waiting list is the
    waiting rows in ticket order.
    """

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "person"),
        UniqueConstraint("session_id", "ticket"),
        CheckConstraint(
            "status IN ('confirmed', 'waiting', 'offered', 'cancelled')", name="status"
        ),
        CheckConstraint("status <> 'offered' OR offer_expires_at IS NOT NULL", name="offer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String, index=True)  # the Entra aadObjectId
    name: Mapped[str] = mapped_column(String)  # for the wethouder's participant list
    function: Mapped[str] = mapped_column(String)
    directorate: Mapped[str] = mapped_column(String)
    consent_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String)
    ticket: Mapped[int] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None] = mapped_column()
    evaluated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SessionEvaluation(Base):
    """One answer to the question after a session, without anything that says whose it is."""

    __tablename__ = "session_evaluations"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    remark: Mapped[str | None] = mapped_column(Text)


class HelpRequestRecord(Base):
    """A help request to Bureau I&D. Free text lives encrypted in `payload`, never in plain.

    `payload` is the Fernet token of a JSON object with the request text, the
    gespreksbegeleider's details, the requester's name and the safety signals. The plain columns
    are what the queue sorts and counts by, and who handles it.
    """

    __tablename__ = "help_requests"
    __table_args__ = (
        Index("ix_help_requests_requester_id", "requester_id"),
        Index("ix_help_requests_status_created_at", "status", "created_at"),
        # One request per submission: Versturen pressed twice (or a retried delivery) stores one.
        Index(
            "ux_help_requests_requester_submission", "requester_id", "submission_key", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    requester_id: Mapped[str] = mapped_column(String)  # the requester's aadObjectId
    directorate: Mapped[str] = mapped_column(String)
    role: Mapped[str] = mapped_column(String)
    urgency: Mapped[str] = mapped_column(String)
    contact: Mapped[str] = mapped_column(String)
    team_size: Mapped[int | None] = mapped_column(Integer)
    theme: Mapped[str | None] = mapped_column(String)
    priority: Mapped[str] = mapped_column(String)
    suggestions: Mapped[str] = mapped_column(Text)  # JSON: offer ids and reasons, no personal data
    payload: Mapped[str] = mapped_column(Text)  # encrypted
    claimed_by_id: Mapped[str | None] = mapped_column(String)
    claimed_by_name: Mapped[str | None] = mapped_column(String)
    claimed_at: Mapped[datetime | None] = mapped_column()
    assigned_to_id: Mapped[str | None] = mapped_column(String)
    assigned_to_name: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    claim_reminded_at: Mapped[datetime | None] = mapped_column()
    close_reminded_at: Mapped[datetime | None] = mapped_column()
    submission_key: Mapped[str | None] = mapped_column(String)  # the intake's, per summary


class HelpRequestMessageRecord(Base):
    """A reply, internal note or requester's answer on a help request; `body` is encrypted."""

    __tablename__ = "help_request_messages"
    __table_args__ = (
        Index("ix_help_request_messages_request_id", "request_id"),
        # One message per submission: a card's button pressed twice (or retried) stores one.
        Index(
            "ux_help_request_messages_request_submission",
            "request_id",
            "submission_key",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String)
    author_id: Mapped[str | None] = mapped_column(String)
    author_name: Mapped[str | None] = mapped_column(String)
    body: Mapped[str] = mapped_column(Text)  # encrypted
    created_at: Mapped[datetime] = mapped_column()
    submission_key: Mapped[str | None] = mapped_column(String)  # the card's, per rendering


class HelpRequestAuditRecord(Base):
    """One change to a help request: who, when, what, from what to what; never any text."""

    __tablename__ = "help_request_audit"
    __table_args__ = (Index("ix_help_request_audit_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id", ondelete="CASCADE"))
    actor_id: Mapped[str | None] = mapped_column(String)  # an aadObjectId; None for the system
    action: Mapped[str] = mapped_column(String)
    from_value: Mapped[str | None] = mapped_column(String)
    to_value: Mapped[str | None] = mapped_column(String)
    at: Mapped[datetime] = mapped_column()


class BureauChannelRecord(Base):
    """The channel of the Bureau's team that help requests are posted to, set by a link command."""

    __tablename__ = "bureau_channels"

    team_id: Mapped[str] = mapped_column(String, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String)
    linked_by: Mapped[str] = mapped_column(String)  # the Bureau member's aadObjectId
    linked_at: Mapped[datetime] = mapped_column()
