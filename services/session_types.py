"""The words of sessions (a session, a registration, who signs up) and what they need of storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.outbox import OutboxWrites

# Sessions take place in Amsterdam; times are stored in UTC and shown in this zone.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DEFAULT_DURATION_MINUTES = 90
DEFAULT_CAPACITY = 8
# How far ahead a session can be planned. Further is a typing error (and near year 9999 the
# reminders, the evaluation the day after and the calendar's end time would not fit a date).
PLANNING_HORIZON_DAYS = 731


def local_when(start: datetime, end: datetime) -> dict[str, int]:
    """A moment in Amsterdam as numbers: weekday (0 is Monday), day, month, year, hours, minutes."""
    local_start, local_end = start.astimezone(AMSTERDAM), end.astimezone(AMSTERDAM)
    return {
        "weekday": local_start.weekday(),
        "day": local_start.day,
        "month": local_start.month,
        "year": local_start.year,
        "start_hour": local_start.hour,
        "start_minute": local_start.minute,
        "end_hour": local_end.hour,
        "end_minute": local_end.minute,
    }


class Audience(StrEnum):
    EVERYONE = "everyone"
    MANAGERS = "managers"


class SessionStatus(StrEnum):
    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"  # the Bureau stopped sign-ups
    CANCELLED = "cancelled"
    HELD = "held"  # it took place


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    OFFERED = "offered"  # a freed place, waiting for their yes until offer_expires_at
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionDetails:
    """What the Bureau plans: everything of a session but its state."""

    offer: str
    starts_at: datetime  # timezone-aware
    theme: str
    duration_minutes: int = DEFAULT_DURATION_MINUTES
    location: str | None = None  # None: not known yet ("n.t.b.")
    questions: Sequence[str] = ()
    audience: Audience = Audience.EVERYONE
    capacity: int = DEFAULT_CAPACITY
    signup_deadline: datetime | None = None  # None: sign-ups close at the start

    def __post_init__(self) -> None:
        for moment in (self.starts_at, self.signup_deadline):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("session times must be timezone-aware")
        if self.duration_minutes <= 0 or self.capacity <= 0:
            raise ValueError("duration and capacity must be positive")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionInfo(SessionDetails):
    """A stored session with its state."""

    id: int
    status: SessionStatus = SessionStatus.OPEN
    places_taken: int = 0
    version: int = 0

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.places_taken, 0)

    def details(self) -> dict[str, Any]:
        """The session as plain JSON data for its cards, now or rendered later.

        `when` has the Amsterdam date and times as numbers, for the texts to spell out in the
        reader's language.
        """
        return {
            "session_id": self.id,
            "offer": self.offer,
            "starts_at": self.starts_at.isoformat(),
            "when": local_when(self.starts_at, self.ends_at),
            "location": self.location,
            "theme": self.theme,
            "questions": list(self.questions),
            "audience": self.audience.value,
            "capacity": self.capacity,
            "places_left": self.places_left,
            "status": self.status.value,
            "deadline": (
                local_when(self.signup_deadline, self.signup_deadline)
                if self.signup_deadline
                else None
            ),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Applicant:
    """Who signs up: the Entra id from the activity, what they told, and their consent."""

    person: str
    name: str
    function: str
    directorate: str
    is_manager: bool
    consent: bool

    def __post_init__(self) -> None:
        if not self.person:
            raise ValueError("an applicant needs a person id")


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistrationInfo:
    id: int
    session_id: int
    person: str
    name: str
    function: str
    directorate: str
    status: RegistrationStatus
    ticket: int
    offer_expires_at: datetime | None = None


class SessionRepository(Protocol):
    """Sessions and registrations over one transaction; never commits."""

    async def add(self, details: SessionDetails) -> SessionInfo: ...

    async def get(self, session_id: int) -> SessionInfo | None: ...

    async def lock(self, session_id: int) -> SessionInfo | None:
        """The session, its row locked until the transaction ends."""
        ...

    async def update(
        self, session_id: int, details: SessionDetails, *, bump_version: bool
    ) -> SessionInfo: ...

    async def set_session_status(self, session_id: int, status: SessionStatus) -> SessionInfo: ...

    async def upcoming(self, *, now: datetime, offer: str | None = None) -> list[SessionInfo]:
        """Sessions that have not started, earliest first, in any status."""
        ...

    async def close_signups(self, now: datetime) -> list[int]:
        """Close the open and full sessions whose sign-up deadline (or start) has passed."""
        ...

    async def reopen(self, session_id: int) -> None:
        """Open a closed session again (open or full, by its places)."""
        ...

    async def started(self, now: datetime) -> list[SessionInfo]:
        """Sessions that have started and are not cancelled or held yet."""
        ...

    async def mark_held(self, session_id: int) -> bool:
        """Mark a session that took place as held; False if it is cancelled or held already."""
        ...

    async def find(self, *, offer: str, starts_at: datetime) -> SessionInfo | None: ...

    async def take_ticket(self, session_id: int) -> int:
        """The next arrival number of this session."""
        ...

    async def take_place(self, session_id: int) -> bool:
        """Take a free place if there is one (the database refuses more than the capacity)."""
        ...

    async def release_place(self, session_id: int) -> None: ...

    async def registration(self, *, session_id: int, person: str) -> RegistrationInfo | None: ...

    async def registration_by_id(self, registration_id: int) -> RegistrationInfo | None: ...

    async def save_registration(
        self,
        *,
        session_id: int,
        applicant: Applicant,
        status: RegistrationStatus,
        ticket: int,
        consent_at: datetime,
    ) -> RegistrationInfo:
        """Insert the person's registration, or renew their cancelled one."""
        ...

    async def set_status(
        self,
        registration_id: int,
        status: RegistrationStatus,
        *,
        offer_expires_at: datetime | None = None,
    ) -> RegistrationInfo: ...

    async def registrations(
        self, session_id: int, statuses: Sequence[RegistrationStatus]
    ) -> list[RegistrationInfo]:
        """The registrations in these statuses, in arrival order."""
        ...

    async def first_waiting(self, session_id: int) -> RegistrationInfo | None: ...

    async def waiting_position(self, *, session_id: int, ticket: int) -> int: ...

    async def sessions_with_expired_offers(self, now: datetime) -> list[int]: ...

    async def expired_offers(self, *, session_id: int, now: datetime) -> list[RegistrationInfo]: ...

    async def of_person(
        self, *, person: str, now: datetime
    ) -> list[tuple[SessionInfo, RegistrationInfo]]:
        """This person's registrations for sessions that have not ended, earliest first."""
        ...

    async def mark_evaluated(self, *, session_id: int, person: str) -> bool:
        """Record that this participant answered; False when they may not (again)."""
        ...

    async def add_evaluation(self, *, session_id: int, rating: int, remark: str | None) -> None: ...

    async def evaluations(self, session_id: int) -> list[tuple[int, str | None]]:
        """The answers after this session: ratings and remarks, with nothing of who gave them."""
        ...


class SessionOutbox(OutboxWrites, Protocol):
    """The outbox, and dropping the unsent messages of a place that is no longer there."""

    async def cancel(self, *, key_prefix: str) -> None:
        """Skip the unsent messages whose key starts with `key_prefix`."""
        ...


class SessionsStore(Protocol):
    """An entered unit of work with sessions; nothing is kept until commit."""

    @property
    def sessions(self) -> SessionRepository: ...

    async def commit(self) -> None: ...


class SessionsUnitOfWork(SessionsStore, Protocol):
    """An entered unit of work with sessions and the outbox; nothing is kept until commit."""

    @property
    def outbox(self) -> SessionOutbox: ...
