"""What the requester does reaches the Bureau's channel: their answer in the thread, the card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.chat import TeamsUser
from content.verbs import VERB_FIELD, Verb
from tests.web.bureau import QUEUE_CHANNEL, account, bureau_bot
from tests.web.conftest import RunningBot
from tests.web.test_bureau_queue import FATIMA, card_of, card_texts, facts, link_channel
from tests.web.test_help_requests import TEXT, WHO, ask_a_question, press, said

ANSWER = "Mijn team heeft twaalf mensen, en het speelt al een paar maanden."


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    members = [account(TeamsUser("", "", "", aad_object_id=FATIMA), "Fatima")]
    async for running in bureau_bot(tmp_path, members):
        yield running


async def in_channel(bot: RunningBot, before: int, count: int) -> list[tuple[str, str, Any]]:
    """The first `count` calls to the Bureau's channel after the first `before` calls."""
    await bot.connector.wait_for_messages(
        count, after=before, where=lambda _, path, __: QUEUE_CHANNEL in path
    )
    calls = [
        (method, path, activity)
        for method, path, activity in bot.connector.calls()[before:]
        if QUEUE_CHANNEL in path and activity.get("type") == "message"
    ]
    return calls[:count]


async def asked(bot: RunningBot, user: TeamsUser) -> tuple[int, dict[str, Any]]:
    """The manager asks through the intake; the request's card arrives in the channel."""
    await ask_a_question(bot, user)
    before = len(bot.connector.received)
    sent = await press(bot, user, form="summary", text=TEXT, theme="weerstand-draagvlak", **WHO)
    assert "verstuurd" in said(sent)
    [(_, path, card)] = await in_channel(bot, before, 1)
    assert path.startswith(f"/v3/conversations/{QUEUE_CHANNEL}/activities")
    number = int(card_texts(card_of(card)).split("Hulpvraag ")[1].split(":")[0])
    return number, card


async def test_the_requesters_answer_appears_in_the_thread_and_the_card_is_updated(
    bot: RunningBot,
) -> None:
    await link_channel(bot)
    manager = bot.user()
    number, card = await asked(bot, manager)
    assert TEXT in card_texts(card_of(card))

    before = len(bot.connector.received)
    shown = await press(
        bot, manager, **{VERB_FIELD: Verb.HELP_REQUEST_ANSWER.value, "request": number}, text=ANSWER
    )
    assert "naar het Bureau gestuurd" in said(shown)
    calls = await in_channel(bot, before, 2)

    (post_method, post_path, posted), (put_method, put_path, _) = calls
    # In the thread of the card, as Teams threads a reply: the channel id and the card's id.
    assert post_method == "POST"
    assert post_path.startswith(f"/v3/conversations/{QUEUE_CHANNEL};messageid={card['id']}/")
    assert ANSWER in card_texts(card_of(posted))
    assert f"Antwoord van de aanvrager op hulpvraag {number}" in card_texts(card_of(posted))
    assert (put_method, put_path.rsplit("/", 1)[1]) == ("PUT", card["id"])


async def test_withdrawing_updates_the_card_for_everyone_in_the_channel(bot: RunningBot) -> None:
    await link_channel(bot)
    manager = bot.user()
    number, card = await asked(bot, manager)

    before = len(bot.connector.received)
    await press(bot, manager, **{VERB_FIELD: Verb.HELP_REQUEST_WITHDRAW.value, "request": number})
    [(method, path, updated)] = await in_channel(bot, before, 1)

    assert (method, path.rsplit("/", 1)[1]) == ("PUT", card["id"])
    assert facts(card_of(updated))["Status"] == "Ingetrokken door de aanvrager"
    assert "actions" not in card_of(updated)  # nothing left to press
