"""Sample values for the session cards, for the dev chat gallery (see `bot.card_samples`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.bureau_samples import TYPED_MARKDOWN, TYPED_NAME
from services.session_types import AMSTERDAM, Audience, SessionInfo, local_when

Values = Callable[[object], dict[str, Any]]

_START = datetime(2026, 10, 15, 15, 0, tzinfo=AMSTERDAM)
_OPEN = SessionInfo(
    id=1,
    offer="wethoudersgesprekken",
    starts_at=_START,
    theme="Inclusief leidinggeven",
    questions=("Wat merk je sinds het rapport?", "Wat heb je nodig?"),
    location="Amstelpark 22",
    audience=Audience.MANAGERS,
    signup_deadline=_START - timedelta(days=3),
    places_taken=5,
)
_FULL = SessionInfo(
    id=2,
    offer="wethoudersgesprekken",
    starts_at=_START + timedelta(days=42),
    theme="Discriminatie op de werkvloer",
    places_taken=8,
)
# What a calendar link looks like (bot/session_files.py); the gallery opens nothing.
_CALENDAR_URL = "http://127.0.0.1:3978/sessions/calendar/1-1-" + "A" * 43 + ".ics?lang=nl"


def _fixed(values: dict[str, Any]) -> Values:
    return lambda _: values


def session_samples() -> Mapping[str, tuple[tuple[str, Values], ...]]:
    """Template name -> (sample name, values), for every session card."""
    s, full = _OPEN.details(), _FULL.details()
    until = local_when(_START - timedelta(days=4), _START - timedelta(days=4))
    mine = [
        {
            "session": s,
            "status": "confirmed",
            "position": None,
            "until": None,
            "calendar_url": _CALENDAR_URL,
        },
        {"session": full, "status": "waiting", "position": 3, "until": None},
        {"session": s, "status": "offered", "position": None, "until": until},
    ]
    notice = {"s": s, "registration_id": 1, "offer_until": until, "calendar_url": _CALENDAR_URL}
    return {
        "sessions": (
            ("two sessions, one full", _fixed({"sessions": [s, full]})),
            ("none planned", _fixed({"sessions": []})),
        ),
        "session_form": (
            ("empty form", _fixed({"s": s, "values": {}, "problem": None})),
            (
                "without consent",
                _fixed(
                    {
                        "s": s,
                        "values": {"function": "Teamleider", "directorate": "Belastingen"},
                        "problem": "session_form_no_consent",
                    }
                ),
            ),
        ),
        "session_signed_up": tuple(
            (
                label,
                _fixed(
                    {
                        "title": title,
                        "text": text,
                        "s": s,
                        "position": 2,
                        "calendar_url": _CALENDAR_URL
                        if title == "session_confirmed_title"
                        else None,
                    }
                ),
            )
            for label, title, text in (
                ("a place", "session_confirmed_title", "session_confirmed_text"),
                ("waiting list", "session_waiting_title", "session_waiting_text"),
                ("already waiting", "session_already_title", "session_already_waiting"),
            )
        ),
        "session_not_for_role": (
            ("others open", _fixed({"sessions": [full]})),
            ("none open", _fixed({"sessions": []})),
        ),
        "my_sessions": (
            ("a place, a waiting spot, an offer", _fixed({"registrations": mine, "notice": None})),
            (
                "after cancelling, none left",
                _fixed(
                    {
                        "registrations": [],
                        "notice": "session_cancelled_by_you",
                        "removed_calendar_url": _CALENDAR_URL,
                    }
                ),
            ),
        ),
        "session_evaluation": (("the question after", _fixed({"s": s})),),
        **_bureau_samples(s, full),
        **{
            name: (("notice", _fixed(notice)),)
            for name in (
                "session_place_offered",
                "session_offer_expired",
                "session_waiting_closed",
                "session_removed",
                "session_changed",
                "session_cancelled",
                "session_reminder",
            )
        },
    }


def _bureau_samples(
    s: dict[str, Any], full: dict[str, Any]
) -> Mapping[str, tuple[tuple[str, Values], ...]]:
    """The Bureau's session cards in its channel."""
    people = [
        {"id": n, "name": name, "function": "Teamleider", "directorate": "Belastingen"}
        for n, name in enumerate(("Sam de Vries", "Noor El Amrani", "Jip Jansen"), start=1)
    ]
    form = {
        "offer": "wethoudersgesprekken",
        "date": "2026-10-15",
        "time": "15:00",
        "duration": "90",
        "capacity": "8",
        "location": "Amstelpark 22",
        "theme": "Inclusief leidinggeven",
        "questions": "Wat merk je sinds het rapport?",
        "audience": "managers",
        "deadline_date": "2026-10-12",
        "deadline_time": "17:00",
    }
    offers = [{"id": "wethoudersgesprekken", "title": "Gesprek met de wethouder"}]
    card = {
        "offer_title": "Gesprek met de wethouder",
        "waiting": 2,
        "notice": None,
        "viewers": ["29:aad-bureau-1", "29:aad-bureau-2"],
        "rated": 0,
        "average": None,
    }
    return {
        "bureau_sessions": (
            ("two planned", _fixed({"count": 2, "more": False})),
            ("none planned", _fixed({"count": 0, "more": False})),
        ),
        "session_bureau": (
            ("open", _fixed({**card, "s": s})),
            ("full, just changed", _fixed({**card, "s": full, "notice": "bureau_session_changed"})),
            (
                "cancelled",
                _fixed({**card, "s": {**s, "status": "cancelled"}, "notice": None}),
            ),
            (
                "held, with its rating",
                _fixed({**card, "s": {**s, "status": "held"}, "rated": 5, "average": 4.2}),
            ),
        ),
        "session_bureau_form": (
            ("new", _fixed({"offers": offers, "values": {}, "problem": None, "session_id": None})),
            (
                "change, with a problem",
                _fixed(
                    {
                        "offers": offers,
                        "values": form,
                        "problem": "bureau_session_capacity_too_low",
                        "session_id": 1,
                    }
                ),
            ),
        ),
        "session_bureau_lists": (
            (
                "typed Markdown, shown as typed",
                _fixed(
                    {
                        "s": s,
                        "notice": None,
                        "participants": [
                            {
                                "id": 1,
                                "name": TYPED_NAME,
                                "function": "**Teamleider**",
                                "directorate": "# Wonen",
                            }
                        ],
                        "offered": [],
                        "waiting": [],
                        "removable": [],
                        "csv_url": None,
                        "csv_minutes": 15,
                        "remarks": [TYPED_MARKDOWN],
                    }
                ),
            ),
            (
                "places, an offer and a waiting list",
                _fixed(
                    {
                        "s": s,
                        "notice": None,
                        "participants": people[:2],
                        "offered": [{"line": "Jip Jansen: tot maandag 12 oktober om 17.00 uur"}],
                        "waiting": [{"line": "1. Kim Bakker, Teamleider, Wonen"}],
                        "removable": people,
                        "csv_url": "http://127.0.0.1:3978/sessions/participants/1-1-"
                        + "A" * 43
                        + ".csv?lang=nl",
                        "csv_minutes": 15,
                        "remarks": ["Fijn dat de wethouder echt luisterde."],
                    }
                ),
            ),
            (
                "nobody yet",
                _fixed(
                    {
                        "s": s,
                        "notice": "bureau_lists_removed",
                        "participants": [],
                        "offered": [],
                        "waiting": [],
                        "removable": [],
                        "csv_url": None,
                        "csv_minutes": 15,
                        "remarks": [],
                    }
                ),
            ),
        ),
    }
