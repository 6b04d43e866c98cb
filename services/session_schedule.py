"""What happens to sessions as time passes, run as periodic jobs (bot/jobs.py).

Each function is safe to run in every instance at once, as often as it likes: its changes are
conditional updates that only the first run makes (a session is closed or marked held once; an
offer is passed on once, under the session's row lock, in `services.sessions.expire_offers`).
"""

from __future__ import annotations

from datetime import datetime

from services.session_messages import Notice, queue_notice
from services.session_types import RegistrationStatus, SessionsStore, SessionsUnitOfWork

__all__ = ["close_signups", "mark_held"]


async def close_signups(*, uow: SessionsUnitOfWork, now: datetime) -> int:
    """Close sign-ups of the sessions whose deadline (or start) has passed, and commit.

    Who is still on the waiting list will not get a place any more (a freed place is no longer
    offered after the deadline): they hear so, and their spot ends. Only the run that closed
    the session (its conditional update) does this, so nobody hears it twice.
    """
    closed = await uow.sessions.close_signups(now)
    for session_id in closed:
        session = await uow.sessions.lock(session_id)
        if session is None:
            continue
        for waiting in await uow.sessions.registrations(session_id, [RegistrationStatus.WAITING]):
            await uow.sessions.set_status(waiting.id, RegistrationStatus.CANCELLED)
            await queue_notice(
                uow=uow,
                notice=Notice.WAITING_CLOSED,
                session=session,
                registration=waiting,
                now=now,
            )
    await uow.commit()
    return len(closed)


async def mark_held(*, uow: SessionsStore, now: datetime) -> int:
    """Mark the sessions that have ended as held, and commit; the evaluation is planned already."""
    held = 0
    for session in await uow.sessions.started(now):
        if session.ends_at <= now and await uow.sessions.mark_held(session.id):
            held += 1
    await uow.commit()
    return held
