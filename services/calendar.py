"""Calendar invitations (.ics) for a place in a session, with the icalendar library.

The event is in Europe/Amsterdam and the file carries that zone's definition (VTIMEZONE), so
Outlook shows the right local time on either side of a daylight-saving change. The UID is the
same for every version of one person's place, so a change updates the event in their calendar
and a cancellation (METHOD:CANCEL) removes it. A place taken again after a cancellation is a
new place (its ticket changes) with a UID of its own: the old event stays cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from icalendar import Calendar, Event

from services.session_types import (
    AMSTERDAM,
    RegistrationStatus,
    SessionInfo,
    SessionsStore,
    SessionStatus,
)

PRODUCT_ID = "-//Gemeente Amsterdam//Wegwijzer I&D//NL"
UID_DOMAIN = "wegwijzer-id"


class Method(StrEnum):
    REQUEST = "REQUEST"  # a new or changed place
    CANCEL = "CANCEL"  # the place or the session is cancelled


@dataclass(frozen=True, kw_only=True, slots=True)
class InvitationText:
    """The rendered words of the invitation, in the person's language (from content/)."""

    summary: str
    description: str
    location: str  # the room, or the words for "not known yet"


def event_uid(session_id: int, registration_id: int, ticket: int) -> str:
    """The stable id of one person's place in one session."""
    return f"session-{session_id}-place-{registration_id}-t{ticket}@{UID_DOMAIN}"


async def place_invitation(
    *, uow: SessionsStore, registration_id: int, ticket: int
) -> tuple[SessionInfo, Method] | None:
    """The session of this place and whether its calendar event stands or is cancelled.

    None when there is no such place, or it never held one (still on the waiting list): such a
    link was never handed out.
    """
    registration = await uow.sessions.registration_by_id(registration_id)
    if registration is None:
        return None
    session = await uow.sessions.get(registration.session_id)
    if session is None:
        return None
    if (
        registration.ticket != ticket  # cancelled, and signed up again since: a new place
        or registration.status is RegistrationStatus.CANCELLED
        or session.status is SessionStatus.CANCELLED
    ):
        return session, Method.CANCEL
    if registration.status is RegistrationStatus.CONFIRMED:
        return session, Method.REQUEST
    return None


def invitation(
    *,
    session: SessionInfo,
    registration_id: int,
    ticket: int,
    text: InvitationText,
    method: Method = Method.REQUEST,
    stamp: datetime,
) -> bytes:
    """The .ics file for this place, as bytes (text/calendar; charset=utf-8)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method.value)
    event = Event()
    event.add("uid", event_uid(session.id, registration_id, ticket))
    # A later version of the session (moved, cancelled) has a higher SEQUENCE: it replaces this one.
    event.add("sequence", session.version + (1 if method is Method.CANCEL else 0))
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at.astimezone(AMSTERDAM))
    event.add("dtend", session.ends_at.astimezone(AMSTERDAM))
    event.add("summary", text.summary)
    event.add("description", text.description)
    event.add("location", text.location)
    event.add("status", "CANCELLED" if method is Method.CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    # Only the years around the session: the whole table since 1970 would bloat the file.
    local = session.starts_at.astimezone(AMSTERDAM).date()
    calendar.add_missing_timezones(
        first_date=date(local.year - 1, 1, 1), last_date=local + timedelta(days=366)
    )
    return bytes(calendar.to_ical())


def filename(session: SessionInfo) -> str:
    """A file name for the invitation: the offer and the local date."""
    return f"{session.offer}-{session.starts_at.astimezone(AMSTERDAM):%Y-%m-%d}.ics"
