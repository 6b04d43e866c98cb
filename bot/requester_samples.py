"""Sample values for the requester's help-request cards, for the dev chat gallery.

See `bot.card_samples`; the list card is built with the bot's own `request_view`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.bureau_samples import TYPED_MARKDOWN
from bot.requester_actions import message_view, request_view
from content.schema import Lang, Role
from content.triage_rules import Urgency
from services.help_requests import (
    MAX_MESSAGE_TEXT,
    ContactPreference,
    HelpRequest,
    Message,
    MessageKind,
    Person,
    RequestKind,
    Status,
)

Values = Callable[[Any], dict[str, Any]]
_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
_THEMES: dict[str, dict[Lang, str]] = {
    "weerstand-draagvlak": {"nl": "Weerstand en draagvlak", "en": "Resistance and support"}
}

SAMPLE_SUBMISSION = "5a3f0c9e2b7d4e61a8c0f1d2e3b4a596"  # as new_submission() makes them


def _request(number: int, kind: RequestKind, status: Status) -> HelpRequest:
    return HelpRequest(
        id=number,
        kind=kind,
        requester=Person("sample", ""),
        directorate="Wonen",
        role=Role.TEAMMANAGER,
        urgency=Urgency.DEZE_MAAND,
        contact=ContactPreference.TEAMS_CHAT,
        text="",
        theme="weerstand-draagvlak" if kind is RequestKind.QUESTION else None,
        status=status,
        claimed_by=None,
        assigned_to=None,
        created_at=_AT,
        updated_at=_AT,
        closed_at=None,
    )


def _mine(lang: Lang, notice: str | None = None) -> dict[str, Any]:
    requests = [
        _request(12, RequestKind.QUESTION, Status.WAITING_FOR_REQUESTER),
        _request(7, RequestKind.GESPREKSBEGELEIDER, Status.CLOSED),
    ]
    return {
        "requests": [request_view(r, lang, _THEMES) for r in requests],
        "notice": notice,
        "notice_number": 7 if notice else None,
        "more": notice is not None,
        "listed": 10,
    }


def _one(lang: Lang, kind: RequestKind) -> dict[str, Any]:
    request = _request(12, kind, Status.IN_PROGRESS)
    said = [
        (MessageKind.REPLY, "Dank voor je vraag. Hoe groot is je team?"),
        (MessageKind.ANSWER, "Twaalf mensen."),
    ]
    messages = [
        Message(id=n, request_id=12, kind=k, author=None, body=body, created_at=_AT)
        for n, (k, body) in enumerate(said, start=1)
    ]
    begeleider = kind is RequestKind.GESPREKSBEGELEIDER
    return {
        "r": request_view(request, lang, _THEMES),
        "text": "Mijn team vindt het gedoe. Hoe krijg ik draagvlak?",
        "details": {"weeks": "week 3 of 4", "notes": "Twee mensen werken parttime."}
        if begeleider
        else {},
        "team_size": 12 if begeleider else None,
        "messages": [message_view(m) for m in messages],
    }


def _typed(lang: Lang) -> dict[str, Any]:
    values = _one(lang, RequestKind.GESPREKSBEGELEIDER)
    message = Message(
        id=1,
        request_id=12,
        kind=MessageKind.REPLY,
        author=None,
        body=TYPED_MARKDOWN,
        created_at=_AT,
    )
    return {
        **values,
        "text": TYPED_MARKDOWN,
        "details": {"weeks": "- week 3", "notes": TYPED_MARKDOWN},
        "messages": [message_view(message)],
    }


def _fixed(values: dict[str, Any]) -> Values:
    return lambda _: values


def requester_samples() -> Mapping[str, tuple[tuple[str, Values], ...]]:
    """Template name -> (sample name, values), for every card of the requester's side."""
    reply = "Dank voor je vraag. Kun je vertellen hoe groot je team is?"
    return {
        "my_help_requests": (
            ("two requests, one open", lambda kit: _mine(kit.lang)),
            ("after withdrawing", lambda kit: _mine(kit.lang, "mine_withdrawn")),
            (
                "none yet",
                _fixed(
                    {
                        "requests": [],
                        "notice": None,
                        "notice_number": None,
                        "more": False,
                        "listed": 10,
                    }
                ),
            ),
        ),
        "my_help_request": (
            (
                "a question with a reply and an answer",
                lambda kit: _one(kit.lang, RequestKind.QUESTION),
            ),
            (
                "a gespreksbegeleider, with its details",
                lambda kit: _one(kit.lang, RequestKind.GESPREKSBEGELEIDER),
            ),
            ("typed Markdown, shown as typed", lambda kit: _typed(kit.lang)),
        ),
        "help_request_answer": (
            (
                "empty",
                _fixed(
                    {
                        "request": 12,
                        "max": MAX_MESSAGE_TEXT,
                        "problem": None,
                        "value": "",
                        "submission": SAMPLE_SUBMISSION,
                    }
                ),
            ),
            (
                "refused, text kept",
                _fixed(
                    {
                        "request": 12,
                        "max": MAX_MESSAGE_TEXT,
                        "problem": "mine_refused_text",
                        "value": "x",
                        "submission": SAMPLE_SUBMISSION,
                    }
                ),
            ),
        ),
        "help_request_thread_answer": (
            (
                "the requester's answer",
                _fixed({"request": 12, "text": "Ons team heeft 14 mensen."}),
            ),
            (
                "typed Markdown, shown as typed",
                _fixed({"request": 12, "text": TYPED_MARKDOWN}),
            ),
        ),
        "help_request_notice": (
            (
                "a reply from the Bureau",
                _fixed({"request": 12, "event": "reply", "text": reply, "open": True}),
            ),
            (
                "typed Markdown, shown as typed",
                _fixed({"request": 12, "event": "reply", "text": TYPED_MARKDOWN, "open": True}),
            ),
            ("handled now", _fixed({"request": 12, "event": "claimed", "open": True})),
            ("passed on", _fixed({"request": 12, "event": "assigned", "open": True})),
            (
                "closed",
                _fixed({"request": 12, "event": "status", "status": "closed", "open": False}),
            ),
        ),
    }
