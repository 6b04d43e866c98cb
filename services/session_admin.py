"""The Bureau's side of sessions: plan, change, cancel, and the lists for the briefing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
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
    RegistrationInfo,
    RegistrationStatus,
    SessionDetails,
    SessionInfo,
    SessionsStore,
    SessionStatus,
    SessionsUnitOfWork,
)
from services.sessions import HOLDS_A_PLACE, accepts_signups

__all__ = [
    "ChangeOutcome",
    "EvaluationFigures",
    "SessionLists",
    "cancel_session",
    "change_session",
    "create_session",
    "import_sessions",
    "participants_csv",
    "session_lists",
]

# Participants hear about these; a new theme wording or a later deadline they do not need.
_NOTIFIED_FIELDS = ("starts_at", "duration_minutes", "location")
_ENDED = (SessionStatus.CANCELLED, SessionStatus.HELD)


class ChangeOutcome(StrEnum):
    CHANGED = "changed"
    NOT_FOUND = "not_found"
    ENDED = "ended"  # cancelled or held: nothing to change
    CAPACITY_TOO_LOW = "capacity_too_low"  # fewer places than people who have one


async def create_session(
    *, uow: SessionsStore, details: SessionDetails, offers_with_dates: Iterable[str]
) -> SessionInfo:
    """Plan a session for an offer that has dates, and commit."""
    _check_offer(details.offer, offers_with_dates)
    session = await uow.sessions.add(details)
    await uow.commit()
    return session


async def import_sessions(
    *, uow: SessionsStore, sessions: Sequence[SessionDetails], offers_with_dates: Iterable[str]
) -> tuple[list[SessionInfo], list[SessionDetails]]:
    """Plan these sessions in one commit, skipping those already planned (offer and start)."""
    offers = frozenset(offers_with_dates)
    for details in sessions:
        _check_offer(details.offer, offers)
    added, skipped = [], []
    for details in sessions:
        if await uow.sessions.find(offer=details.offer, starts_at=details.starts_at) is None:
            added.append(await uow.sessions.add(details))
        else:
            skipped.append(details)
    await uow.commit()
    return added, skipped


async def change_session(
    *,
    uow: SessionsUnitOfWork,
    session_id: int,
    details: SessionDetails,
    now: datetime,
    rules: SessionRules,
) -> tuple[ChangeOutcome, SessionInfo | None]:
    """Change a session and commit; everyone signed up hears of a new time or place.

    A new time re-plans every reminder. More places go to the waiting list first.
    """
    session = await uow.sessions.lock(session_id)
    if session is None:
        return ChangeOutcome.NOT_FOUND, None
    if session.status in _ENDED:
        return ChangeOutcome.ENDED, session
    if details.capacity < session.places_taken:
        return ChangeOutcome.CAPACITY_TOO_LOW, session
    noticeable = any(getattr(session, f) != getattr(details, f) for f in _NOTIFIED_FIELDS)
    changed = await uow.sessions.update(session_id, details, bump_version=noticeable)
    if changed.status is SessionStatus.CLOSED and now < (
        changed.signup_deadline or changed.starts_at
    ):
        # A later deadline (or start) opens sign-ups again that time had closed.
        await uow.sessions.reopen(session_id)
        changed = await uow.sessions.get(session_id) or changed
    # The offer cannot move: a session belongs to the offer it was planned for.
    active = await uow.sessions.registrations(
        session_id, [*HOLDS_A_PLACE, RegistrationStatus.WAITING]
    )
    if noticeable:
        for registration in active:
            await queue_notice(
                uow=uow, notice=Notice.CHANGED, session=changed, registration=registration, now=now
            )
            if registration.status is RegistrationStatus.CONFIRMED:
                await cancel_planned_messages(uow=uow, registration=registration)
                await plan_messages(
                    uow=uow, session=changed, registration=registration, now=now, rules=rules
                )
    changed = await _offer_new_places(uow=uow, session=changed, now=now, rules=rules)
    await uow.commit()
    return ChangeOutcome.CHANGED, changed


async def cancel_session(
    *, uow: SessionsUnitOfWork, session_id: int, now: datetime
) -> SessionInfo | None:
    """Cancel a session and commit: everyone signed up hears it, no reminder goes out."""
    session = await uow.sessions.lock(session_id)
    if session is None or session.status in _ENDED:
        return session
    cancelled = await uow.sessions.set_session_status(session_id, SessionStatus.CANCELLED)
    active = await uow.sessions.registrations(
        session_id, [*HOLDS_A_PLACE, RegistrationStatus.WAITING]
    )
    for registration in active:
        await cancel_planned_messages(uow=uow, registration=registration)
        await queue_notice(
            uow=uow, notice=Notice.CANCELLED, session=cancelled, registration=registration, now=now
        )
    await uow.commit()
    return cancelled


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluationFigures:
    """The answers after a session, for the Bureau: how many, the average, the remarks."""

    count: int = 0
    average: float | None = None
    remarks: tuple[str, ...] = ()  # sorted, so their order says nothing of who answered when


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionLists:
    session: SessionInfo
    participants: list[RegistrationInfo]  # confirmed, in arrival order
    offered: list[RegistrationInfo]
    waiting: list[RegistrationInfo]  # in waiting-list order
    figures: EvaluationFigures = EvaluationFigures()


async def session_lists(*, uow: SessionsStore, session_id: int) -> SessionLists | None:
    """The participant table, open offers and the waiting list of one session."""
    session = await uow.sessions.get(session_id)
    if session is None:
        return None
    active = await uow.sessions.registrations(
        session_id,
        [RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED, RegistrationStatus.WAITING],
    )
    answers = await uow.sessions.evaluations(session_id)
    ratings = [rating for rating, _ in answers]
    return SessionLists(
        session=session,
        participants=[r for r in active if r.status is RegistrationStatus.CONFIRMED],
        offered=[r for r in active if r.status is RegistrationStatus.OFFERED],
        waiting=[r for r in active if r.status is RegistrationStatus.WAITING],
        figures=EvaluationFigures(
            count=len(ratings),
            average=sum(ratings) / len(ratings) if ratings else None,
            remarks=tuple(sorted(remark for _, remark in answers if remark)),
        ),
    )


def participants_csv(participants: Sequence[RegistrationInfo], header: Sequence[str]) -> bytes:
    """The participant table as CSV (UTF-8 with BOM, so Excel reads the accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    for registration in participants:
        writer.writerow(
            [
                _cell(registration.name),
                _cell(registration.function),
                _cell(registration.directorate),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def _offer_new_places(
    *, uow: SessionsUnitOfWork, session: SessionInfo, now: datetime, rules: SessionRules
) -> SessionInfo:
    """After more places: offer each new free place to the next on the waiting list."""
    while accepts_signups(session, now) and session.places_left > 0:
        waiting = await uow.sessions.first_waiting(session.id)
        if waiting is None or not await uow.sessions.take_place(session.id):
            break
        expires = min(now + rules.offer_window, session.signup_deadline or session.starts_at)
        offered = await uow.sessions.set_status(
            waiting.id, RegistrationStatus.OFFERED, offer_expires_at=expires
        )
        await queue_notice(
            uow=uow, notice=Notice.PLACE_OFFERED, session=session, registration=offered, now=now
        )
        session = await uow.sessions.get(session.id) or session
    return session


def _check_offer(offer: str, offers_with_dates: Iterable[str]) -> None:
    if offer not in frozenset(offers_with_dates):
        raise ValueError(f"offer {offer!r} has no dates (see 'sessions: true' in its content)")
