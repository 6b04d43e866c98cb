"""The Bureau's queue in its channel, through /api/messages and the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import APP_KEY
from bot.chat import TeamsUser
from content.schema import Role
from content.triage_rules import Priority, Urgency
from services.help_requests import (
    ContactPreference,
    HelpRequest,
    NewHelpRequest,
    Person,
    RequestKind,
    Suggestion,
)
from tests.web.bureau import QUEUE_CHANNEL, account, bureau_bot, says_to_bot
from tests.web.conftest import RunningBot

SECRET = "Een collega wordt steeds buitengesloten bij het overleg"
REQUESTER = Person("aad-requester", "Sanne de Vries")
FATIMA, BRAM = "aad-fatima", "aad-bram"


def new_request(**changes: Any) -> NewHelpRequest:
    values: dict[str, Any] = {
        "kind": RequestKind.QUESTION,
        "requester": REQUESTER,
        "directorate": "Wonen",
        "role": Role.TEAMMANAGER,
        "urgency": Urgency.DEZE_WEEK,
        "contact": ContactPreference.TEAMS_CHAT,
        "text": SECRET,
        "theme": "sociale-veiligheid",
        "priority": Priority.HOOG,
        "suggestions": (Suggestion("gespreksbegeleider", (("role", "teammanager"),)),),
    }
    return NewHelpRequest(**{**values, **changes})


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    members = [account(TeamsUser("", "", "", aad_object_id=a), n) for a, n in
               ((FATIMA, "Fatima"), (BRAM, "Bram"))]  # fmt: skip
    async for running in bureau_bot(tmp_path, members):
        yield running


def member(bot: RunningBot, aad: str = FATIMA, **fields: Any) -> TeamsUser:
    return bot.user(aad_object_id=aad, **fields)


async def link_channel(bot: RunningBot) -> None:
    """A Bureau member links the queue channel (which also lets the bot post there)."""
    _, messages = await bot.send(says_to_bot(member(bot), "koppel"))
    assert "gekoppeld" in messages[0]["text"]


async def posted(
    bot: RunningBot, request: NewHelpRequest | None = None
) -> tuple[HelpRequest, dict[str, Any]]:
    """Submit a request as the intake does; wait for its card in the channel."""
    before = len(bot.connector.received)
    stored = await bot.app[APP_KEY].help_desk.submit(request or new_request())
    arrived = await bot.connector.wait_for(before + 1, seconds=10)
    return stored, arrived[before]


def card_texts(card: Any) -> str:
    """Every TextBlock's text in the card, nested ones too, in order."""
    if isinstance(card, list):
        return " ".join(card_texts(part) for part in card)
    if not isinstance(card, dict):
        return ""
    own = card.get("text", "") if card.get("type") == "TextBlock" else ""
    inner = [card_texts(card[key]) for key in ("body", "items", "columns") if key in card]
    return " ".join(part for part in (own, *inner) if part)


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    card: dict[str, Any] = activity["attachments"][0]["content"]
    return card


def facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        f["title"]: f["value"]
        for element in card["body"]
        if element["type"] == "FactSet"
        for f in element["facts"]
    }


async def test_a_new_request_arrives_in_the_linked_channel_as_a_card_with_its_text(
    bot: RunningBot,
) -> None:
    await link_channel(bot)

    request, activity = await posted(bot)

    method, path, _ = bot.connector.requests[-1]
    assert method == "POST"
    # A new post in the channel: its conversation is the channel, not a thread in it.
    assert path.startswith(f"/v3/conversations/{QUEUE_CHANNEL}/activities")
    card = card_of(activity)
    assert f"Hulpvraag {request.id}: Vraag aan het Bureau" in card_texts(card)
    assert "Prioriteit: Hoog" in card_texts(card)
    assert SECRET in card_texts(card)
    assert facts(card)["Status"] == "Nieuw"
    assert facts(card)["Gevraagd door"] == "Sanne de Vries"
    assert facts(card)["Thema"] == "Sociale veiligheid"
    assert card["refresh"]["action"]["data"] == {"request": request.id}
    assert [a["title"] for a in card["actions"]] == [
        "Oppakken", "Toewijzen", "Status wijzigen", "Antwoorden", "Notitie",
    ]  # fmt: skip


async def test_a_request_sent_before_any_channel_was_linked_is_posted_when_one_is(
    bot: RunningBot,
) -> None:
    request = await bot.app[APP_KEY].help_desk.submit(new_request())

    await link_channel(bot)
    arrived = await bot.connector.wait_for(2, seconds=10)

    assert f"Hulpvraag {request.id}" in card_texts(card_of(arrived[-1]))
