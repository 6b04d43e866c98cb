"""What participants hear without asking: notices, reminders before a session, the question after.

Every such message is an outbox row, queued in the same unit of work as the change that causes
it. Keys make each message unique: a reminder is queued once per place, offset and version of
the session, so planning again never doubles one, and moving a session cancels the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from services.outbox import MessageKind, Recipient, queue_message
from services.session_types import (
    AMSTERDAM,
    RegistrationInfo,
    RegistrationStatus,
    SessionInfo,
    SessionStatus,
    SessionsUnitOfWork,
    local_when,
)

__all__ = [
    "Notice",
    "SessionRules",
    "answer_evaluation",
    "cancel_planned_messages",
    "evaluation_moment",
    "plan_messages",
    "queue_notice",
    "reminder_moments",
]


class Notice(StrEnum):
    """The messages about sessions, by the card template that renders them."""

    PLACE_OFFERED = "session_place_offered"  # urgent: a freed place, confirm in time
    OFFER_EXPIRED = "session_offer_expired"
    WAITING_CLOSED = "session_waiting_closed"  # sign-ups closed before a place came free
    REMOVED = "session_removed"  # the Bureau took them off the list
    CHANGED = "session_changed"
    CANCELLED = "session_cancelled"
    REMINDER = "session_reminder"
    EVALUATION = "session_evaluation"


# Notices about a person's place go out at once, quiet hours or not: they may have to act (a
# place to take in time, a new time or place, a session that is off). Reminders and the question
# afterwards wait for daytime, and reminders for the person's preference (the outbox sees to it).
KINDS = {
    Notice.PLACE_OFFERED: MessageKind.URGENT,
    Notice.CHANGED: MessageKind.URGENT,
    Notice.CANCELLED: MessageKind.URGENT,
    Notice.OFFER_EXPIRED: MessageKind.NOTICE,
    Notice.WAITING_CLOSED: MessageKind.NOTICE,
    Notice.REMOVED: MessageKind.NOTICE,
    Notice.REMINDER: MessageKind.REMINDER,
    Notice.EVALUATION: MessageKind.EVALUATION,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRules:
    """The settings of sessions (from bot settings): reminder offsets, offer time, evaluation."""

    reminder_offsets: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    offer_window: timedelta = timedelta(hours=24)
    evaluation_at: time = time(10, 0)  # Amsterdam time, the day after the session

    def __post_init__(self) -> None:
        if any(offset <= timedelta(0) for offset in self.reminder_offsets):
            raise ValueError("reminder offsets must be positive")
        if self.offer_window <= timedelta(0):
            raise ValueError("the offer window must be positive")


def reminder_moments(
    session: SessionInfo, *, now: datetime, rules: SessionRules
) -> list[tuple[timedelta, datetime]]:
    """The reminders still to send for this session: (offset, moment), in the future only."""
    moments = {offset: session.starts_at - offset for offset in rules.reminder_offsets}
    return sorted(
        ((offset, moment) for offset, moment in moments.items() if moment > now),
        key=lambda pair: pair[1],
    )


def evaluation_moment(session: SessionInfo, rules: SessionRules) -> datetime:
    """The day after the session, at the evaluation time in Amsterdam."""
    local_day = session.ends_at.astimezone(AMSTERDAM).date() + timedelta(days=1)
    return datetime.combine(local_day, rules.evaluation_at, tzinfo=AMSTERDAM)


def _place_prefix(registration: RegistrationInfo) -> str:
    # The ticket changes when someone signs up again, so a new place never meets the keys of
    # the messages of a place they cancelled.
    return f"session/{registration.session_id}/place/{registration.id}/t{registration.ticket}/"


def _planned_prefix(registration: RegistrationInfo) -> str:
    """The keys of a place's reminders and evaluation question (not of its notices)."""
    return f"{_place_prefix(registration)}planned/"


async def plan_messages(
    *,
    uow: SessionsUnitOfWork,
    session: SessionInfo,
    registration: RegistrationInfo,
    now: datetime,
    rules: SessionRules,
) -> None:
    """Queue the reminders and the evaluation question for a confirmed place."""
    if registration.status is not RegistrationStatus.CONFIRMED:
        return
    prefix = _planned_prefix(registration)
    data = {
        "s": session.details(),
        "registration_id": registration.id,
        "ticket": registration.ticket,
    }
    for offset, moment in reminder_moments(session, now=now, rules=rules):
        minutes = int(offset.total_seconds() // 60)
        await _queue(
            uow,
            registration,
            Notice.REMINDER,
            {**data, "minutes_before": minutes},
            key=f"{prefix}reminder/{minutes}m/v{session.version}",
            due=moment,
        )
    await _queue(
        uow,
        registration,
        Notice.EVALUATION,
        data,
        key=f"{prefix}evaluation/v{session.version}",
        due=evaluation_moment(session, rules),
    )


async def cancel_planned_messages(
    *, uow: SessionsUnitOfWork, registration: RegistrationInfo
) -> None:
    """Drop the unsent reminders and evaluation question of this place."""
    await uow.outbox.cancel(key_prefix=_planned_prefix(registration))


async def queue_notice(
    *,
    uow: SessionsUnitOfWork,
    notice: Notice,
    session: SessionInfo,
    registration: RegistrationInfo,
    now: datetime,
) -> None:
    """Tell one person about their place now (urgent notices ignore quiet hours)."""
    expires = registration.offer_expires_at
    data = {
        "s": session.details(),
        "registration_id": registration.id,
        # Only a confirmed place is in the person's calendar (bot/session_files.py links it).
        "ticket": (
            registration.ticket if registration.status is RegistrationStatus.CONFIRMED else None
        ),
        "offer_until": local_when(expires, expires) if expires else None,
    }
    await _queue(
        uow,
        registration,
        notice,
        data,
        key=f"{_place_prefix(registration)}{notice.value}/v{session.version}/{now.isoformat()}",
        due=now,
    )


async def _queue(
    uow: SessionsUnitOfWork,
    registration: RegistrationInfo,
    notice: Notice,
    data: dict[str, Any],
    *,
    key: str,
    due: datetime,
) -> None:
    await queue_message(
        uow=uow,
        to=Recipient.person(registration.person),
        kind=KINDS[notice],
        template=notice.value,
        data=data,
        key=key,
        due=due,
    )


async def answer_evaluation(
    *,
    uow: SessionsUnitOfWork,
    session_id: int,
    person: str,
    rating: int,
    remark: str | None,
    now: datetime,
) -> bool:
    """Store a participant's rating (1-5) and remark without their identity, once; commit.

    The registration only records that they answered, so nobody can answer twice, and the
    answer itself carries no link to who gave it.
    """
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    remark = (remark or "").strip() or None
    session = await uow.sessions.get(session_id)
    if session is None or now < session.ends_at or session.status is SessionStatus.CANCELLED:
        return False
    if not await uow.sessions.mark_evaluated(session_id=session_id, person=person):
        return False
    await uow.sessions.add_evaluation(session_id=session_id, rating=rating, remark=remark)
    await uow.commit()
    return True
