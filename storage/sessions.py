"""Sessions and registrations in SQL. Never commits; the unit of work does.

Concurrency: `lock` takes the session's row lock (SELECT ... FOR UPDATE on PostgreSQL; on SQLite
the unit of work's writer turn and the database's single writer do the same), and the services
change places, tickets and registrations only while holding it. Behind that, the database itself
refuses overbooking (CHECK places_taken <= capacity, a conditional UPDATE) and doubles (unique
person and ticket per session).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Update, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.session_types import (
    Applicant,
    Audience,
    RegistrationInfo,
    RegistrationStatus,
    SessionDetails,
    SessionInfo,
    SessionStatus,
)
from storage.models import OfferSession, Registration, SessionEvaluation
from storage.types import utcnow

_DETAIL_FIELDS = (
    "offer",
    "starts_at",
    "duration_minutes",
    "location",
    "theme",
    "audience",
    "capacity",
    "signup_deadline",
)

_TAKING_SIGNUPS = (SessionStatus.OPEN.value, SessionStatus.FULL.value)
_NOT_ENDED = (*_TAKING_SIGNUPS, SessionStatus.CLOSED.value)


class SqlSessionRepository:
    """Sessions, their registrations and evaluations, over one session of the unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, details: SessionDetails) -> SessionInfo:
        row = OfferSession(
            **{name: _plain(getattr(details, name)) for name in _DETAIL_FIELDS},
            questions=list(details.questions),
            status=SessionStatus.OPEN.value,
            places_taken=0,
            arrivals=0,
            version=0,
        )
        self._session.add(row)
        await self._session.flush()
        return _session_info(row)

    async def get(self, session_id: int) -> SessionInfo | None:
        row = await self._session.scalar(
            select(OfferSession)
            .where(OfferSession.id == session_id)
            .execution_options(populate_existing=True)
        )
        return None if row is None else _session_info(row)

    async def lock(self, session_id: int) -> SessionInfo | None:
        row = await self._session.scalar(
            select(OfferSession)
            .where(OfferSession.id == session_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if row is None else _session_info(row)

    async def update(
        self, session_id: int, details: SessionDetails, *, bump_version: bool
    ) -> SessionInfo:
        values = {
            name: _plain(getattr(details, name)) for name in _DETAIL_FIELDS if name != "offer"
        }
        values["questions"] = list(details.questions)
        values["updated_at"] = utcnow()
        statement = update(OfferSession).where(OfferSession.id == session_id).values(**values)
        if bump_version:
            statement = statement.values(version=OfferSession.version + 1)
        await self._session.execute(statement)
        # A full session with more places is open again; an open one with none left is full.
        await self._session.execute(_refresh_full(session_id))
        return await self._must_get(session_id)

    async def set_session_status(self, session_id: int, status: SessionStatus) -> SessionInfo:
        await self._session.execute(
            update(OfferSession)
            .where(OfferSession.id == session_id)
            .values(status=status.value, version=OfferSession.version + 1, updated_at=utcnow())
        )
        return await self._must_get(session_id)

    async def close_signups(self, now: datetime) -> list[int]:
        # One conditional UPDATE: a session is closed once, whichever instance gets there first.
        passed = or_(
            and_(OfferSession.signup_deadline.is_not(None), OfferSession.signup_deadline <= now),
            and_(OfferSession.signup_deadline.is_(None), OfferSession.starts_at <= now),
        )
        closed = await self._session.scalars(
            update(OfferSession)
            .where(OfferSession.status.in_(_TAKING_SIGNUPS), passed)
            .values(status=SessionStatus.CLOSED.value, updated_at=utcnow())
            .returning(OfferSession.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(closed)

    async def reopen(self, session_id: int) -> None:
        await self._session.execute(
            update(OfferSession)
            .where(OfferSession.id == session_id, OfferSession.status == SessionStatus.CLOSED.value)
            .values(status=SessionStatus.OPEN.value, updated_at=utcnow())
        )
        await self._session.execute(_refresh_full(session_id))

    async def started(self, now: datetime) -> list[SessionInfo]:
        rows = await self._session.scalars(
            select(OfferSession)
            .where(OfferSession.status.in_(_NOT_ENDED), OfferSession.starts_at <= now)
            .order_by(OfferSession.starts_at, OfferSession.id)
        )
        return [_session_info(row) for row in rows]

    async def mark_held(self, session_id: int) -> bool:
        held = await self._session.scalar(
            update(OfferSession)
            .where(OfferSession.id == session_id, OfferSession.status.in_(_NOT_ENDED))
            .values(status=SessionStatus.HELD.value, updated_at=utcnow())
            .returning(OfferSession.id)
            .execution_options(synchronize_session=False)
        )
        return held is not None

    async def upcoming(self, *, now: datetime, offer: str | None = None) -> list[SessionInfo]:
        query = select(OfferSession).where(OfferSession.starts_at > now)
        if offer is not None:
            query = query.where(OfferSession.offer == offer)
        rows = await self._session.scalars(query.order_by(OfferSession.starts_at, OfferSession.id))
        return [_session_info(row) for row in rows]

    async def find(self, *, offer: str, starts_at: datetime) -> SessionInfo | None:
        row = await self._session.scalar(
            select(OfferSession).where(
                OfferSession.offer == offer, OfferSession.starts_at == starts_at
            )
        )
        return None if row is None else _session_info(row)

    async def take_ticket(self, session_id: int) -> int:
        ticket = await self._session.scalar(
            update(OfferSession)
            .where(OfferSession.id == session_id)
            .values(arrivals=OfferSession.arrivals + 1)
            .returning(OfferSession.arrivals)
        )
        if ticket is None:
            raise LookupError(f"no session {session_id}")
        return int(ticket)

    async def take_place(self, session_id: int) -> bool:
        # Conditional: the row is only changed while a place is free, whoever else is trying.
        taken = await self._session.scalar(
            update(OfferSession)
            .where(OfferSession.id == session_id, OfferSession.places_taken < OfferSession.capacity)
            .values(places_taken=OfferSession.places_taken + 1)
            .returning(OfferSession.id)
        )
        await self._session.execute(_refresh_full(session_id))
        return taken is not None

    async def release_place(self, session_id: int) -> None:
        await self._session.execute(
            update(OfferSession)
            .where(OfferSession.id == session_id, OfferSession.places_taken > 0)
            .values(places_taken=OfferSession.places_taken - 1)
        )
        await self._session.execute(_refresh_full(session_id))

    async def registration(self, *, session_id: int, person: str) -> RegistrationInfo | None:
        row = await self._session.scalar(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.person == person)
            .execution_options(populate_existing=True)
        )
        return None if row is None else _registration_info(row)

    async def registration_by_id(self, registration_id: int) -> RegistrationInfo | None:
        row = await self._session.scalar(
            select(Registration)
            .where(Registration.id == registration_id)
            .execution_options(populate_existing=True)
        )
        return None if row is None else _registration_info(row)

    async def save_registration(
        self,
        *,
        session_id: int,
        applicant: Applicant,
        status: RegistrationStatus,
        ticket: int,
        consent_at: datetime,
    ) -> RegistrationInfo:
        row = await self._session.scalar(
            select(Registration).where(
                Registration.session_id == session_id, Registration.person == applicant.person
            )
        )
        if row is None:
            row = Registration(session_id=session_id, person=applicant.person, evaluated=False)
            self._session.add(row)
        row.name = applicant.name
        row.function = applicant.function
        row.directorate = applicant.directorate
        row.consent_at = consent_at
        row.status = status.value
        row.ticket = ticket
        row.offer_expires_at = None
        row.updated_at = utcnow()
        await self._session.flush()
        return _registration_info(row)

    async def set_status(
        self,
        registration_id: int,
        status: RegistrationStatus,
        *,
        offer_expires_at: datetime | None = None,
    ) -> RegistrationInfo:
        await self._session.execute(
            update(Registration)
            .where(Registration.id == registration_id)
            .values(status=status.value, offer_expires_at=offer_expires_at, updated_at=utcnow())
        )
        row = await self._session.scalar(
            select(Registration)
            .where(Registration.id == registration_id)
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise LookupError(f"no registration {registration_id}")
        return _registration_info(row)

    async def registrations(
        self, session_id: int, statuses: Sequence[RegistrationStatus]
    ) -> list[RegistrationInfo]:
        rows = await self._session.scalars(
            select(Registration)
            .where(
                Registration.session_id == session_id,
                Registration.status.in_([status.value for status in statuses]),
            )
            .order_by(Registration.ticket)
            .execution_options(populate_existing=True)
        )
        return [_registration_info(row) for row in rows]

    async def first_waiting(self, session_id: int) -> RegistrationInfo | None:
        waiting = await self.registrations(session_id, [RegistrationStatus.WAITING])
        return waiting[0] if waiting else None

    async def waiting_position(self, *, session_id: int, ticket: int) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.session_id == session_id,
                Registration.status == RegistrationStatus.WAITING.value,
                Registration.ticket <= ticket,
            )
        )
        return int(count or 0)

    async def sessions_with_expired_offers(self, now: datetime) -> list[int]:
        ids = await self._session.scalars(
            select(Registration.session_id)
            .where(_expired(now))
            .distinct()
            .order_by(Registration.session_id)
        )
        return list(ids)

    async def expired_offers(self, *, session_id: int, now: datetime) -> list[RegistrationInfo]:
        rows = await self._session.scalars(
            select(Registration)
            .where(Registration.session_id == session_id, _expired(now))
            .order_by(Registration.ticket)
            .execution_options(populate_existing=True)
        )
        return [_registration_info(row) for row in rows]

    async def of_person(
        self, *, person: str, now: datetime
    ) -> list[tuple[SessionInfo, RegistrationInfo]]:
        rows = await self._session.execute(
            select(OfferSession, Registration)
            .join(Registration, Registration.session_id == OfferSession.id)
            .where(Registration.person == person, OfferSession.starts_at > now)
            .order_by(OfferSession.starts_at, OfferSession.id)
        )
        return [(_session_info(s), _registration_info(r)) for s, r in rows.tuples()]

    async def mark_evaluated(self, *, session_id: int, person: str) -> bool:
        marked = await self._session.scalar(
            update(Registration)
            .where(
                Registration.session_id == session_id,
                Registration.person == person,
                Registration.status == RegistrationStatus.CONFIRMED.value,
                Registration.evaluated.is_(False),
            )
            .values(evaluated=True)
            .returning(Registration.id)
        )
        return marked is not None

    async def add_evaluation(self, *, session_id: int, rating: int, remark: str | None) -> None:
        self._session.add(SessionEvaluation(session_id=session_id, rating=rating, remark=remark))
        await self._session.flush()

    async def evaluations(self, session_id: int) -> list[tuple[int, str | None]]:
        rows = await self._session.execute(
            select(SessionEvaluation.rating, SessionEvaluation.remark).where(
                SessionEvaluation.session_id == session_id
            )
        )
        return [(int(rating), remark) for rating, remark in rows]

    async def _must_get(self, session_id: int) -> SessionInfo:
        session = await self.get(session_id)
        if session is None:
            raise LookupError(f"no session {session_id}")
        return session


def _refresh_full(session_id: int) -> Update:
    """Set open/full from the places, leaving closed, cancelled and held sessions alone."""
    return (
        update(OfferSession)
        .where(
            OfferSession.id == session_id,
            OfferSession.status.in_([SessionStatus.OPEN.value, SessionStatus.FULL.value]),
        )
        .values(
            status=case(
                (OfferSession.places_taken >= OfferSession.capacity, SessionStatus.FULL.value),
                else_=SessionStatus.OPEN.value,
            )
        )
    )


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(
        Registration.status == RegistrationStatus.OFFERED.value,
        Registration.offer_expires_at <= now,
    )


def _plain(value: object) -> object:
    return value.value if isinstance(value, Audience) else value


def _session_info(row: OfferSession) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        offer=row.offer,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        location=row.location,
        theme=row.theme,
        questions=tuple(row.questions or ()),
        audience=Audience(row.audience),
        capacity=row.capacity,
        signup_deadline=row.signup_deadline,
        status=SessionStatus(row.status),
        places_taken=row.places_taken,
        version=row.version,
    )


def _registration_info(row: Registration) -> RegistrationInfo:
    return RegistrationInfo(
        id=row.id,
        session_id=row.session_id,
        person=row.person,
        name=row.name,
        function=row.function,
        directorate=row.directorate,
        status=RegistrationStatus(row.status),
        ticket=row.ticket,
        offer_expires_at=row.offer_expires_at,
    )
