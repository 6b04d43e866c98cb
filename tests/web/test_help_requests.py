"""A manager asks the Bureau for help through /api/messages, as Teams posts a personal chat."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from jsonschema import Draft6Validator
from sqlalchemy import select

from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from content.verbs import VERB_FIELD, Verb
from storage.db import create_engine, create_session_factory
from storage.models import HelpRequestRecord
from tests.web.conftest import RunningBot, start_bot
from tests.web.test_messages import cards
from tests.web.test_offers import buttons, texts

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCHEMA = (
    Path(__file__).resolve().parents[3] / "shared/schemas/adaptivecards/1.5.0/adaptive-card.json"
)
TEXT = "Mijn team vindt al dat gedoe over diversiteit onzin. Hoe krijg ik draagvlak?"
WHO = {"directorate": "Wonen", "role": "teammanager", "urgency": "deze_maand", "contact": "email"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    async for running in start_bot(tmp_path_factory.mktemp("bot"), LocalConnector()):
        yield running


@pytest.fixture(scope="module")
def validator() -> Draft6Validator:
    return Draft6Validator(json.loads(SCHEMA.read_text()))


async def rows(bot: RunningBot, user: TeamsUser) -> list[HelpRequestRecord]:
    engine = create_engine(bot.database_url)
    try:
        async with create_session_factory(engine)() as db:
            found = await db.scalars(
                select(HelpRequestRecord).where(
                    HelpRequestRecord.requester_id == user.aad_object_id
                )
            )
            return list(found)
    finally:
        await engine.dispose()


async def say(bot: RunningBot, user: TeamsUser, text: str) -> list[dict[str, Any]]:
    _, messages = await bot.send(user.says(text))
    return messages


async def press(bot: RunningBot, user: TeamsUser, **data: Any) -> list[dict[str, Any]]:
    _, messages = await bot.send(user.presses(data))
    return messages


def form_of(messages: list[dict[str, Any]]) -> str | None:
    """The form a message's last card asks (its Stop button names it)."""
    for card in reversed(cards(messages)):
        for action in card.get("actions", []):
            form = action.get("data", {}).get("form")
            if form:
                return str(form)
    return None


def said(messages: list[dict[str, Any]]) -> str:
    found = [m["text"] for m in messages if m.get("text")]
    found += [t for card in cards(messages) for t in texts(card)]
    return "\n".join(found)


async def ask_a_question(bot: RunningBot, user: TeamsUser) -> list[dict[str, Any]]:
    """From the menu's button to the summary, every step's card valid; returns the summary."""
    steps = [await press(bot, user, **{VERB_FIELD: Verb.HELP_REQUEST.value})]
    assert form_of(steps[-1]) == "kind"
    steps.append(await press(bot, user, form="kind", kind="question"))
    assert form_of(steps[-1]) == "text"
    steps.append(await say(bot, user, TEXT))
    assert form_of(steps[-1]) == "theme"
    steps.append(await press(bot, user, form="theme", theme="weerstand-draagvlak"))
    assert form_of(steps[-1]) == "who"
    steps.append(await press(bot, user, form="who", **WHO))
    assert form_of(steps[-1]) == "summary"
    return [m for messages in steps for m in messages]


async def test_the_menu_leads_to_the_intake_and_a_confirmed_request_is_stored(
    bot: RunningBot, validator: Draft6Validator
) -> None:
    user = bot.user()
    shown = await ask_a_question(bot, user)

    for card in cards(shown):
        assert not list(validator.iter_errors(card))
    assert await rows(bot, user) == []  # nothing before confirming

    sent = await press(bot, user, form="summary", text=TEXT, theme="weerstand-draagvlak", **WHO)

    assert "verstuurd" in said(sent)
    [row] = await rows(bot, user)
    assert (row.kind, row.status, row.directorate) == ("question", "new", "Wonen")
    assert "draagvlak" not in row.payload


async def test_stopping_half_way_stores_nothing(bot: RunningBot) -> None:
    user = bot.user()
    await press(bot, user, **{VERB_FIELD: Verb.HELP_REQUEST.value, "kind": "question"})
    await say(bot, user, TEXT)
    await press(bot, user, form="theme", theme="weerstand-draagvlak")

    stopped = await say(bot, user, "stop")

    assert "ik ben gestopt" in said(stopped)
    assert await rows(bot, user) == []


@pytest.mark.parametrize(
    "typed",
    ["Ik wil hulp vragen aan het Bureau", "ik heb hulp nodig", "I need help", "hulpvraag"],
)
async def test_typing_that_you_want_help_starts_the_intake(bot: RunningBot, typed: str) -> None:
    messages = await say(bot, bot.user(), typed)
    assert form_of(messages) == "kind"


async def test_a_search_answer_offers_to_ask_the_bureau_a_question(bot: RunningBot) -> None:
    user = bot.user()
    answer = await say(bot, user, "Hoe voer ik een moeilijk gesprek met mijn team?")
    ask = next(
        b
        for card in cards(answer)
        for b in buttons(card)
        if b["title"] == "Stel je vraag aan het Bureau"
    )

    started = await press(bot, user, **ask["data"])

    assert form_of(started) == "text"  # the kind is known: a question


async def test_the_gespreksbegeleider_offer_leads_straight_to_that_kind(bot: RunningBot) -> None:
    user = bot.user()
    item = await press(bot, user, **{VERB_FIELD: Verb.ITEM.value, "id": "gespreksbegeleider"})
    request = next(
        b
        for card in cards(item)
        for b in buttons(card)
        if b.get("data", {}).get(VERB_FIELD) == Verb.HELP_REQUEST.value
    )

    started = await press(bot, user, **request["data"])
    assert form_of(started) == "text"
    assert "Waar moet het teamgesprek over gaan?" in said(started)
