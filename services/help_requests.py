"""Help requests to Bureau I&D: what one is, its states, and the repository a service needs.

A request is created by a manager (the requester) and handled by Bureau staff: claimed, assigned,
answered and closed. Every change is audited (who, when, from what to what), never with text.
The actions themselves are in `services.help_request_actions`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from content.schema import Role
from content.triage_rules import Priority, Urgency
from services.outbox import OutboxWrites

# Limits the cards state; a longer text is refused with the limit, never cut silently.
MAX_REQUEST_TEXT = 1000
MAX_DETAIL_TEXT = 500
MAX_MESSAGE_TEXT = 2000
MAX_TEAM_SIZE = 500


class RequestKind(StrEnum):
    QUESTION = "question"  # a question for the Bureau
    GESPREKSBEGELEIDER = "gespreksbegeleider"  # a facilitator for a team conversation


def new_submission() -> str:
    """A key for one summary or form card: sent twice (a double click, a retried delivery), the
    same key comes twice, and the database keeps one request or message per key."""
    return uuid.uuid4().hex


def submission_key(value: object) -> str | None:
    """`value` if it is a key as `new_submission` makes them; None for anything else."""
    return value if isinstance(value, str) and _SUBMISSION.fullmatch(value) else None


_SUBMISSION = re.compile(r"[0-9a-f]{32}")


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_REQUESTER = "waiting_for_requester"
    REFERRED = "referred"  # referred to an offer
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in (Status.CLOSED, Status.WITHDRAWN)


# What the Bureau may set a status to, from each status. Withdrawing is the requester's alone;
# a withdrawn request stays withdrawn. A closed request can be opened again.
BUREAU_TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_FOR_REQUESTER, Status.REFERRED, Status.CLOSED}),
    Status.WAITING_FOR_REQUESTER: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.CLOSED}),
    Status.REFERRED: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
    Status.WITHDRAWN: frozenset(),
}


class ContactPreference(StrEnum):
    TEAMS_CHAT = "teams_chat"
    EMAIL = "email"
    PHONE = "phone"


class MessageKind(StrEnum):
    REPLY = "reply"  # from the Bureau to the requester, relayed by the bot
    NOTE = "note"  # internal to the Bureau, never shown to the requester
    ANSWER = "answer"  # the requester's answer to a reply


class AuditAction(StrEnum):
    CREATED = "created"
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    STATUS = "status"
    REPLIED = "replied"
    NOTED = "noted"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"
    REMINDED = "reminded"


class SlaPeriod(StrEnum):
    CLAIM = "claim"  # from creation until someone claims it
    CLOSE = "close"  # from creation until it is closed


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in Teams: the Entra aadObjectId (stable) and the display name (for the card)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An offer triage suggested, and the finder answers it matched: (answer, value) pairs."""

    offer_id: str
    reasons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class NewHelpRequest:
    """What the intake collected and triage added, before it is stored."""

    kind: RequestKind
    requester: Person
    directorate: str
    role: Role
    urgency: Urgency
    contact: ContactPreference
    text: str
    # The gespreksbegeleider's own fields (preferred weeks, topic, what the facilitator should
    # know), free text like `text` and encrypted with it.
    details: Mapping[str, str] = field(default_factory=dict)
    team_size: int | None = None
    theme: str | None = None
    priority: Priority = Priority.NORMAAL
    signals: tuple[str, ...] = ()  # ids of the safety signals that fired
    suggestions: tuple[Suggestion, ...] = ()
    # The intake's key for this request (one per summary it showed): sent twice, stored once.
    submission: str | None = None


@dataclass(frozen=True, kw_only=True)
class HelpRequest(NewHelpRequest):
    """A stored help request with its handling state."""

    id: int
    status: Status
    claimed_by: Person | None
    assigned_to: Person | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Message:
    id: int
    request_id: int
    kind: MessageKind
    author: Person | None  # None for the requester's answers: the request names them
    body: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One change: who (an aadObjectId, None for the system), when, what, from what to what."""

    request_id: int
    actor_id: str | None
    action: AuditAction
    from_value: str | None
    to_value: str | None
    at: datetime


class HelpRequestRepository(Protocol):
    """Help requests, their messages and audit trail; never commits."""

    async def add(self, request: NewHelpRequest, *, now: datetime) -> tuple[int, bool]:
        """Store a new request with status new; its id, and False when it was there already.

        A request with the `submission` of one stored before (by the same requester) is not
        stored again, also when both arrive at once: its id comes back instead.
        """
        ...

    async def get(self, request_id: int) -> HelpRequest | None: ...

    async def for_requester(self, requester_id: str) -> list[HelpRequest]:
        """The requester's requests, newest first."""
        ...

    async def open_requests(self) -> list[HelpRequest]:
        """Every request that is not closed or withdrawn, oldest first."""
        ...

    async def claim(self, request_id: int, *, by: Person, now: datetime) -> bool:
        """Claim an open, unclaimed request in one conditional statement; False if it was not."""
        ...

    async def set_status(
        self, request_id: int, *, expected: Status, to: Status, now: datetime
    ) -> bool:
        """Change the status if it still is `expected`; False if it changed meanwhile."""
        ...

    async def assign(
        self, request_id: int, *, expected: str | None, to: Person, now: datetime
    ) -> bool:
        """Assign to `to` if the assignee's id still is `expected`; also claims it if unclaimed."""
        ...

    async def add_message(
        self,
        request_id: int,
        *,
        kind: MessageKind,
        author: Person | None,
        body: str,
        now: datetime,
        submission: str | None = None,
    ) -> int | None:
        """Store a message; its id, or None when this submission (a card's key) is kept already."""
        ...

    async def messages(self, request_id: int) -> list[Message]:
        """The request's messages, oldest first."""
        ...

    async def add_audit(self, entry: AuditEntry) -> None: ...

    async def audit(self, request_id: int) -> list[AuditEntry]:
        """The request's audit trail, oldest first."""
        ...

    async def due_for_reminder(
        self, period: SlaPeriod, *, created_before: datetime, reminded_before: datetime
    ) -> list[HelpRequest]:
        """Open requests past the period's deadline, not reminded since `reminded_before`."""
        ...

    async def mark_reminded(
        self, request_id: int, period: SlaPeriod, *, now: datetime, reminded_before: datetime
    ) -> bool:
        """Note a reminder unless one was noted since `reminded_before`; False if one was."""
        ...


class BureauChannelRepository(Protocol):
    """The channel each Bureau team linked with the link command; never commits."""

    async def link(self, *, team_id: str, channel_id: str, by: str, now: datetime) -> None: ...

    async def channel_of(self, team_id: str) -> str | None: ...


class BureauChannelUnitOfWork(Protocol):
    @property
    def bureau_channels(self) -> BureauChannelRepository: ...

    async def commit(self) -> None: ...


class HelpRequestUnitOfWork(Protocol):
    """An entered unit of work with the help requests and the outbox; nothing is kept until
    commit, so a change and the messages about it are kept together or not at all."""

    @property
    def help_requests(self) -> HelpRequestRepository: ...

    @property
    def outbox(self) -> OutboxWrites: ...

    async def commit(self) -> None: ...


def queue_order(requests: Sequence[HelpRequest]) -> list[HelpRequest]:
    """Order a queue: highest priority first, then oldest first."""
    return sorted(requests, key=lambda r: (r.priority.rank, r.created_at, r.id))
