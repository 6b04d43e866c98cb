"""The .ics invitation parses with icalendar and opens at the right local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from services.calendar import InvitationText, Method, event_uid, filename, invitation
from services.session_types import AMSTERDAM, SessionInfo
from tests.sessions.conftest import START, details

TEXT = InvitationText(
    summary="Gesprek met de wethouder",
    description="Thema: inclusief leidinggeven",
    location="Amstelpark 22",
)
STAMP = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def _session(version: int = 0, **changes: object) -> SessionInfo:
    base = details(**changes)
    return SessionInfo(
        id=7,
        offer=base.offer,
        starts_at=base.starts_at,
        duration_minutes=base.duration_minutes,
        location=base.location,
        theme=base.theme,
        questions=base.questions,
        audience=base.audience,
        capacity=base.capacity,
        signup_deadline=base.signup_deadline,
        version=version,
    )


def _event(ics: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_invitation_opens_at_the_local_time_in_amsterdam() -> None:
    calendar, event = _event(
        invitation(session=_session(), registration_id=3, ticket=5, text=TEXT, stamp=STAMP)
    )

    start = event.decoded("dtstart")
    assert (start.tzinfo.key, start.hour, start.minute) == ("Europe/Amsterdam", 15, 0)
    assert event.decoded("dtend") - start == timedelta(minutes=90)
    assert start == START
    assert calendar["method"] == "REQUEST"
    assert str(event["location"]) == "Amstelpark 22"
    assert "inclusief leidinggeven" in str(event["description"])


def test_invitation_carries_the_amsterdam_timezone_definition() -> None:
    ics = invitation(session=_session(), registration_id=3, ticket=5, text=TEXT, stamp=STAMP)
    calendar, _ = _event(ics)

    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["tzid"]) == "Europe/Amsterdam"
    assert {c.name for c in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert b"DTSTART;TZID=Europe/Amsterdam:20261017T150000" in ics


def test_a_winter_session_is_still_at_its_local_time() -> None:
    winter = datetime(2026, 12, 17, 15, 0, tzinfo=AMSTERDAM)
    _, event = _event(
        invitation(
            session=_session(starts_at=winter), registration_id=3, ticket=5, text=TEXT, stamp=STAMP
        )
    )

    assert event.decoded("dtstart").astimezone(UTC).hour == 14


def test_a_change_keeps_the_uid_and_raises_the_sequence() -> None:
    _, first = _event(
        invitation(session=_session(), registration_id=3, ticket=5, text=TEXT, stamp=STAMP)
    )
    _, moved = _event(
        invitation(
            session=_session(starts_at=START + timedelta(days=7), version=1),
            registration_id=3,
            ticket=5,
            text=TEXT,
            stamp=STAMP,
        )
    )

    assert str(first["uid"]) == str(moved["uid"]) == event_uid(7, 3, 5)
    assert int(moved["sequence"]) > int(first["sequence"])


def test_cancellation_is_method_cancel_with_the_same_uid() -> None:
    calendar, event = _event(
        invitation(
            session=_session(),
            registration_id=3,
            ticket=5,
            text=TEXT,
            method=Method.CANCEL,
            stamp=STAMP,
        )
    )

    assert calendar["method"] == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == event_uid(7, 3, 5)


def test_filename_names_the_offer_and_the_local_date() -> None:
    assert filename(_session()) == "wethoudersgesprekken-2026-10-17.ics"
