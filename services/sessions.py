"""Sessions with places: signing up, the waiting list, cancelling and offering a freed place.

The rules that must hold with many instances at once (never more places than the capacity, one
registration per person per session, the waiting list in arrival order, a freed place offered
once) are kept by the database: every change to a session's places runs while its row is locked
(`lock`), the place counter has a CHECK, and the registrations have unique keys. The services
decide; the repository locks and writes; the unit of work commits, with the messages it queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.session_messages import (
    Notice,
    SessionRules,
    cancel_planned_messages,
    plan_messages,
    queue_notice,
)
from services.session_types import (
    Applicant,
    Audience,
    RegistrationInfo,
    RegistrationStatus,
    SessionInfo,
    SessionsStore,
    SessionStatus,
    SessionsUnitOfWork,
)

__all__ = [
    "SignUpOutcome",
    "SignUpResult",
    "cancel_registration",
    "confirm_offer",
    "expire_offers",
    "my_registrations",
    "open_sessions",
    "sign_up",
]

HOLDS_A_PLACE = frozenset({RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED})
ACTIVE = HOLDS_A_PLACE | {RegistrationStatus.WAITING}


class SignUpOutcome(StrEnum):
    """What signing up came to; each has its own message."""

    CONFIRMED = "confirmed"
    WAITING = "waiting"
    ALREADY = "already"  # already has a place, an offer or a waiting-list spot
    NOT_FOR_ROLE = "not_for_role"  # a managers-only session and they are not a manager
    NO_CONSENT = "no_consent"
    CLOSED = "closed"  # cancelled, closed, held, past its deadline, or unknown


@dataclass(frozen=True, kw_only=True, slots=True)
class SignUpResult:
    outcome: SignUpOutcome
    session: SessionInfo | None = None
    registration: RegistrationInfo | None = None
    position: int | None = None  # on the waiting list, from 1
    # For NOT_FOR_ROLE: the upcoming sessions this person may sign up for instead.
    open_to_you: Sequence[SessionInfo] = ()


def accepts_signups(session: SessionInfo, now: datetime) -> bool:
    """Tell whether sign-ups are open (a full session still takes people on its waiting list)."""
    return (
        session.status in (SessionStatus.OPEN, SessionStatus.FULL)
        and now < (session.signup_deadline or session.starts_at)
        and now < session.starts_at
    )


async def open_sessions(
    *, uow: SessionsStore, now: datetime, is_manager: bool, offer: str | None = None
) -> list[SessionInfo]:
    """The upcoming sessions this person may sign up for, earliest first."""
    upcoming = await uow.sessions.upcoming(now=now, offer=offer)
    return [
        session
        for session in upcoming
        if accepts_signups(session, now) and (is_manager or session.audience is Audience.EVERYONE)
    ]


async def sign_up(
    *,
    uow: SessionsUnitOfWork,
    session_id: int,
    applicant: Applicant,
    now: datetime,
    rules: SessionRules,
) -> SignUpResult:
    """Give the applicant a place, or a spot on the waiting list when it is full, and commit."""
    if not applicant.consent:
        return SignUpResult(outcome=SignUpOutcome.NO_CONSENT)
    # The lock orders everyone signing up for this session: tickets, places and positions are
    # handed out one at a time, whichever instance the turn runs on.
    session = await uow.sessions.lock(session_id)
    if session is None or not accepts_signups(session, now):
        return SignUpResult(outcome=SignUpOutcome.CLOSED, session=session)
    if session.audience is Audience.MANAGERS and not applicant.is_manager:
        others = await open_sessions(uow=uow, now=now, is_manager=False)
        return SignUpResult(outcome=SignUpOutcome.NOT_FOR_ROLE, session=session, open_to_you=others)
    existing = await uow.sessions.registration(session_id=session_id, person=applicant.person)
    if existing is not None and existing.status in ACTIVE:
        position = await _position(uow, existing)
        return SignUpResult(
            outcome=SignUpOutcome.ALREADY, session=session, registration=existing, position=position
        )
    ticket = await uow.sessions.take_ticket(session_id)
    # A free place exists only while nobody waits: a freed place goes to the waiting list first.
    got_place = await uow.sessions.take_place(session_id)
    status = RegistrationStatus.CONFIRMED if got_place else RegistrationStatus.WAITING
    registration = await uow.sessions.save_registration(
        session_id=session_id,
        applicant=applicant,
        status=status,
        ticket=ticket,
        consent_at=now,
    )
    if got_place:
        await plan_messages(
            uow=uow, session=session, registration=registration, now=now, rules=rules
        )
    position = await _position(uow, registration)
    await uow.commit()
    return SignUpResult(
        outcome=SignUpOutcome.CONFIRMED if got_place else SignUpOutcome.WAITING,
        session=await uow.sessions.get(session_id),
        registration=registration,
        position=position,
    )


async def cancel_registration(
    *,
    uow: SessionsUnitOfWork,
    session_id: int,
    person: str,
    now: datetime,
    rules: SessionRules,
    by_bureau: bool = False,
) -> RegistrationInfo | None:
    """Cancel this person's place, offer or waiting-list spot and commit; None if they had none.

    A freed place is offered to the first on the waiting list at once. `by_bureau` (a Bureau
    member removed them) also tells the person.
    """
    session = await uow.sessions.lock(session_id)
    if session is None or now >= session.starts_at:
        return None  # once it has begun, the list is what happened (and who is asked after)
    if session.status is SessionStatus.CANCELLED:
        return None  # everyone on it was told; a place in it is nobody's to pass on
    registration = await uow.sessions.registration(session_id=session_id, person=person)
    if registration is None or registration.status not in ACTIVE:
        return None
    cancelled = await uow.sessions.set_status(registration.id, RegistrationStatus.CANCELLED)
    await cancel_planned_messages(uow=uow, registration=registration)
    if by_bureau:
        await queue_notice(
            uow=uow, notice=Notice.REMOVED, session=session, registration=registration, now=now
        )
    if registration.status in HOLDS_A_PLACE:
        await _pass_place_on(uow=uow, session=session, now=now, rules=rules)
    await uow.commit()
    return cancelled


async def confirm_offer(
    *, uow: SessionsUnitOfWork, session_id: int, person: str, now: datetime, rules: SessionRules
) -> RegistrationInfo | None:
    """Turn this person's offered place into a confirmed one and commit; None if none is open."""
    session = await uow.sessions.lock(session_id)
    if session is None or session.status not in (SessionStatus.OPEN, SessionStatus.FULL):
        return None
    registration = await uow.sessions.registration(session_id=session_id, person=person)
    if (
        registration is None
        or registration.status is not RegistrationStatus.OFFERED
        or registration.offer_expires_at is None
        or registration.offer_expires_at <= now
    ):
        return None
    confirmed = await uow.sessions.set_status(registration.id, RegistrationStatus.CONFIRMED)
    await plan_messages(uow=uow, session=session, registration=confirmed, now=now, rules=rules)
    await uow.commit()
    return confirmed


async def expire_offers(*, uow: SessionsUnitOfWork, now: datetime, rules: SessionRules) -> int:
    """Pass every offer not confirmed in time on to the next on the list; commit per session.

    Safe to run in every instance at once: each session is handled under its row lock, and an
    offer that another instance already passed on is no longer there to expire.
    """
    passed = 0
    for session_id in await uow.sessions.sessions_with_expired_offers(now):
        session = await uow.sessions.lock(session_id)
        if session is None:
            continue
        for registration in await uow.sessions.expired_offers(session_id=session_id, now=now):
            await uow.sessions.set_status(registration.id, RegistrationStatus.CANCELLED)
            await queue_notice(
                uow=uow,
                notice=Notice.OFFER_EXPIRED,
                session=session,
                registration=registration,
                now=now,
            )
            await _pass_place_on(uow=uow, session=session, now=now, rules=rules)
            passed += 1
        await uow.commit()
    return passed


async def my_registrations(
    *, uow: SessionsStore, person: str, now: datetime
) -> list[tuple[SessionInfo, RegistrationInfo, int | None]]:
    """This person's upcoming places, offers and waiting-list spots, with their positions.

    A session that was called off is not upcoming: they were told, and there is nothing to do.
    """
    result = []
    for session, registration in await uow.sessions.of_person(person=person, now=now):
        if registration.status in ACTIVE and session.status is not SessionStatus.CANCELLED:
            result.append((session, registration, await _position(uow, registration)))
    return result


async def _pass_place_on(
    *, uow: SessionsUnitOfWork, session: SessionInfo, now: datetime, rules: SessionRules
) -> None:
    """Offer a freed place to the first on the waiting list, or free it when nobody waits."""
    waiting = await uow.sessions.first_waiting(session.id)
    if waiting is None or not accepts_signups(session, now):
        await uow.sessions.release_place(session.id)
        return
    expires = min(now + rules.offer_window, session.signup_deadline or session.starts_at)
    offered = await uow.sessions.set_status(
        waiting.id, RegistrationStatus.OFFERED, offer_expires_at=max(expires, now)
    )
    await queue_notice(
        uow=uow, notice=Notice.PLACE_OFFERED, session=session, registration=offered, now=now
    )


async def _position(uow: SessionsStore, registration: RegistrationInfo) -> int | None:
    if registration.status is not RegistrationStatus.WAITING:
        return None
    return await uow.sessions.waiting_position(
        session_id=registration.session_id, ticket=registration.ticket
    )
