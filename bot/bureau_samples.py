"""Sample values for the Bureau's help-request cards in its channel, for the dev chat gallery.

See `bot.card_samples`; the values are built with `channel_card_data`, as the bot builds them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from content.schema import Role
from content.triage_rules import Priority, Urgency
from services.help_request_channel import CardTitles, channel_card_data
from services.help_requests import (
    ContactPreference,
    HelpRequest,
    Person,
    RequestKind,
    Status,
    Suggestion,
)

Values = Callable[[Any], dict[str, Any]]
_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
_TITLES = CardTitles(
    themes={
        "weerstand-draagvlak": {"nl": "Weerstand en draagvlak", "en": "Resistance and support"}
    },
    offers={
        "gespreksbegeleider": {"nl": "Gespreksbegeleider", "en": "Conversation facilitator"},
        "toolkit-id": {"nl": "Toolkit I&D", "en": "I&D toolkit"},
    },
)
# What someone could type that Markdown would format, that Teams would show as a date or time
# (an Adaptive Card text function) or turn into a link: every card shows it as typed.
TYPED_MARKDOWN = (
    "Zie [link](https://x) en **vet**\n# kop\n- punt\n1. een\n<at>Fatima</at> & _schuin_\n"
    "{{DATE(2026-01-01T09:00:00Z, SHORT)}} om {{TIME(2026-01-01T09:00:00Z)}}: "
    "https://evil.example of www.evil.example"
)
TYPED_NAME = "**Sam** [de Vries](https://x)"
_QUESTION = HelpRequest(
    id=12,
    kind=RequestKind.QUESTION,
    requester=Person("sample-requester", "Sam de Vries"),
    directorate="Wonen",
    role=Role.TEAMMANAGER,
    urgency=Urgency.DEZE_WEEK,
    contact=ContactPreference.EMAIL,
    text="In mijn team wordt een collega buitengesloten. Hoe begin ik het gesprek?",
    theme="weerstand-draagvlak",
    priority=Priority.HOOG,
    suggestions=(
        Suggestion("gespreksbegeleider", (("role", "teammanager"), ("theme", "x"))),
        Suggestion("toolkit-id", ()),
    ),
    status=Status.NEW,
    claimed_by=None,
    assigned_to=None,
    created_at=_AT,
    updated_at=_AT,
    closed_at=None,
)
_FACILITATOR = replace(
    _QUESTION,
    id=13,
    kind=RequestKind.GESPREKSBEGELEIDER,
    text="Een gesprek over hoe we met elkaar omgaan na een incident.",
    details={"weeks": "week 2 of 3", "notes": "Twee mensen werken op afstand."},
    team_size=14,
    theme=None,
    priority=Priority.NORMAAL,
    urgency=Urgency.DEZE_MAAND,
    suggestions=(),
    status=Status.IN_PROGRESS,
    claimed_by=Person("sample-bureau-1", "Fatima"),
    assigned_to=Person("sample-bureau-2", ""),
)


def _card(request: HelpRequest, *, days: int = 0, notice: str | None = None) -> Values:
    return lambda kit: channel_card_data(
        request,
        now=_AT + timedelta(days=days),
        titles=_TITLES,
        viewers=["29:sample-bureau-1", "29:sample-bureau-2"],
        notice=kit.text(notice, name="Fatima") if notice else None,
    )


def bureau_samples() -> Mapping[str, tuple[tuple[str, Values], ...]]:
    """Template name -> (sample name, values), for every card of the Bureau's channel."""
    members = [{"id": "sample-bureau-1", "name": "Fatima"}, {"id": "sample-bureau-2", "name": ""}]
    return {
        "help_request_channel": (
            ("new question, high priority", _card(_QUESTION)),
            ("facilitator, claimed, 3 days old", _card(_FACILITATOR, days=3)),
            (
                "claimed by someone else (the loser's view)",
                _card(_FACILITATOR, days=1, notice="channel_notice_taken"),
            ),
            ("closed", _card(replace(_QUESTION, status=Status.CLOSED), days=9)),
            (
                "typed Markdown, shown as typed",
                _card(
                    replace(
                        _FACILITATOR,
                        text=TYPED_MARKDOWN,
                        requester=Person("sample-requester", TYPED_NAME),
                        directorate="# Wonen",
                        details={"weeks": "- week 2", "notes": TYPED_MARKDOWN},
                        claimed_by=Person("sample-bureau-1", TYPED_NAME),
                    ),
                    notice="channel_notice_assigned",
                ),
            ),
        ),
        "help_request_assign": (
            ("two colleagues", lambda kit: {"request": 12, "members": members}),
            ("members unknown", lambda kit: {"request": 12, "members": []}),
        ),
    }
