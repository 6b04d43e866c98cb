"""A manager asks the Bureau for help through /api/messages, as Teams posts a personal chat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from jsonschema import Draft6Validator
from sqlalchemy import select

from bot.app import APP_KEY
from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from content.schema import Role
from content.triage_rules import Urgency
from content.verbs import VERB_FIELD, Verb
from services.help_requests import (
    ContactPreference,
    NewHelpRequest,
    Person,
    RequestKind,
)
from storage.db import create_engine, create_session_factory
from storage.models import HelpRequestMessageRecord, HelpRequestRecord
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
    """Everything a person reads: texts, card texts and labels, and facts."""
    found = [m["text"] for m in messages if m.get("text")]
    for card in cards(messages):
        found += texts(card)
        found += [json.dumps(card.get("body"), ensure_ascii=False)]  # facts and the rest
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
    notice = said(shown[-1:])  # the summary: what is stored, who sees it, how long, see/delete
    for part in ("Wat ik bewaar", "Wie het ziet", "Hoe lang", "Zien of verwijderen"):
        assert part in notice

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

    assert "Ik heb niets bewaard en niets verstuurd." in said(stopped)
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


async def test_pressing_send_again_on_a_sent_summary_says_so_and_sends_nothing(
    bot: RunningBot,
) -> None:
    user = bot.user()
    await ask_a_question(bot, user)
    summary = {"form": "summary", "text": TEXT, "theme": "weerstand-draagvlak", **WHO}
    await press(bot, user, **summary)

    again = await press(bot, user, **summary)

    assert "Ik heb er niets mee gedaan en niets verstuurd." in said(again)
    assert "Waar kan ik je mee helpen?" in said(again)  # and what to do next
    assert len(await rows(bot, user)) == 1


async def test_a_stopped_intakes_card_answers_in_english_to_an_english_locale(
    bot: RunningBot,
) -> None:
    user = bot.user(locale="en-US")
    await press(bot, user, **{VERB_FIELD: Verb.HELP_REQUEST.value, "kind": "question"})
    await say(bot, user, "stop")

    late = await press(bot, user, form="text", text=TEXT)

    assert "That card belongs to a question that has already ended" in said(late)
    assert await rows(bot, user) == []


# -- Mijn hulpvragen


async def submitted(bot: RunningBot, user: TeamsUser) -> int:
    """A question the user asked and confirmed; its number."""
    await ask_a_question(bot, user)
    await press(bot, user, form="summary", text=TEXT, theme="weerstand-draagvlak", **WHO)
    [row] = [r for r in await rows(bot, user) if r.status == "new"][-1:]
    return row.id


def buttons_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for card in cards(messages) for b in buttons(card)]


async def test_my_help_requests_lists_them_with_their_status_by_button_and_typed(
    bot: RunningBot, validator: Draft6Validator
) -> None:
    user = bot.user()
    number = await submitted(bot, user)

    by_button = await press(bot, user, **{VERB_FIELD: Verb.MY_HELP_REQUESTS.value})
    typed = await say(bot, user, "Mijn hulpvragen")

    for shown in (by_button, typed):
        text = said(shown)
        assert f"Hulpvraag {number}" in text
        assert "Nieuw" in text and "Weerstand" in text
        assert TEXT not in text  # the list never shows the text itself
        assert {b["data"].get(VERB_FIELD) for b in buttons_of(shown)} >= {
            Verb.HELP_REQUEST_WITHDRAW.value,
            Verb.HELP_REQUEST_ANSWER_FORM.value,
        }
        for card in cards(shown):
            assert not list(validator.iter_errors(card))


async def test_someone_without_requests_is_told_so(bot: RunningBot) -> None:
    shown = await say(bot, bot.user(locale="en-US"), "my help requests")
    assert "You have not asked for help yet." in said(shown)


async def test_the_menu_has_my_help_requests(bot: RunningBot) -> None:
    menu = await say(bot, bot.user(), "menu")
    assert "Mijn hulpvragen" in [b["title"] for b in buttons_of(menu)]


async def test_the_requester_withdraws_their_open_request(bot: RunningBot) -> None:
    user = bot.user()
    number = await submitted(bot, user)
    withdraw = next(
        b
        for b in buttons_of(await say(bot, user, "mijn hulpvragen"))
        if b["data"].get(VERB_FIELD) == Verb.HELP_REQUEST_WITHDRAW.value
    )

    shown = await press(bot, user, **withdraw["data"])

    assert f"Je hulpvraag {number} is ingetrokken." in said(shown)
    assert "Ingetrokken" in said(shown)
    [row] = await rows(bot, user)
    assert row.status == "withdrawn"
    again = await press(bot, user, **withdraw["data"])
    assert "al afgesloten of ingetrokken" in said(again)


async def test_nobody_withdraws_or_answers_someone_elses_request(bot: RunningBot) -> None:
    owner, other = bot.user(), bot.user()
    number = await submitted(bot, owner)

    withdrawn = await press(
        bot, other, **{VERB_FIELD: Verb.HELP_REQUEST_WITHDRAW.value, "request": number}
    )
    answered = await press(
        bot,
        other,
        **{VERB_FIELD: Verb.HELP_REQUEST_ANSWER.value, "request": number, "text": "Ik ook"},
    )
    form = await press(
        bot, other, **{VERB_FIELD: Verb.HELP_REQUEST_ANSWER_FORM.value, "request": number}
    )

    for shown in (withdrawn, answered, form):
        assert "Die hulpvraag kan ik niet vinden." in said(shown)
    [row] = await rows(bot, owner)
    assert row.status == "new"
    assert await messages_of(bot, number) == []


async def test_a_forged_request_number_changes_nothing(bot: RunningBot) -> None:
    user = bot.user()
    # "²" passes str.isdigit but not int(); 2**70 passes int() but not the database.
    for forged in ("abc", -1, True, None, "99999999999", "²", 2**70, 2**31):
        shown = await press(
            bot, user, **{VERB_FIELD: Verb.HELP_REQUEST_WITHDRAW.value, "request": forged}
        )
        assert "Deze kaart is niet meer actueel" in said(shown)


async def test_the_requester_answers_and_the_answer_is_stored_encrypted(bot: RunningBot) -> None:
    user = bot.user()
    number = await submitted(bot, user)
    form = await press(
        bot, user, **{VERB_FIELD: Verb.HELP_REQUEST_ANSWER_FORM.value, "request": number}
    )
    send = next(
        b for b in buttons_of(form) if b["data"].get(VERB_FIELD) == Verb.HELP_REQUEST_ANSWER.value
    )
    answer = "Mijn team heeft twaalf mensen."

    empty = await press(bot, user, **send["data"], text="   ")
    assert "Je antwoord is leeg of te lang" in said(empty)
    shown = await press(bot, user, **send["data"], text=answer)

    assert "Je antwoord is naar het Bureau gestuurd." in said(shown)
    [stored] = await messages_of(bot, number)
    assert stored.kind == "answer" and stored.author_id is None
    assert "twaalf" not in stored.body


async def messages_of(bot: RunningBot, request_id: int) -> list[HelpRequestMessageRecord]:
    engine = create_engine(bot.database_url)
    try:
        async with create_session_factory(engine)() as db:
            found = await db.scalars(
                select(HelpRequestMessageRecord).where(
                    HelpRequestMessageRecord.request_id == request_id
                )
            )
            return list(found)
    finally:
        await engine.dispose()


async def test_the_list_shows_the_ten_newest_and_says_there_are_more(bot: RunningBot) -> None:
    user = bot.user()
    desk = bot.app[APP_KEY].help_desk
    for _ in range(11):
        await desk.submit(
            NewHelpRequest(
                kind=RequestKind.QUESTION,
                requester=Person(user.aad_object_id, ""),
                directorate="Wonen",
                role=Role.TEAMMANAGER,
                urgency=Urgency.GEEN_HAAST,
                contact=ContactPreference.EMAIL,
                text=TEXT,
            )
        )
    numbers = sorted(row.id for row in await rows(bot, user))

    shown = said(await say(bot, user, "mijn hulpvragen"))

    heading = 'Hulpvraag {}"'.format  # as the card's JSON holds a heading, closing quote and all
    assert heading(numbers[-1]) in shown and heading(numbers[1]) in shown
    assert heading(numbers[0]) not in shown  # the oldest is left out
    assert "Je ziet hier je 10 nieuwste hulpvragen." in shown


async def test_control_characters_in_the_typed_text_are_not_stored(bot: RunningBot) -> None:
    """A NUL byte (PostgreSQL refuses it) or a bidi override never reaches the stored request."""
    user = bot.user()
    await ask_a_question(bot, user)
    text = "Eerste regel\x00 met een NUL\n\u202eTweede regel"
    who = {**WHO, "directorate": "Wonen\u202e\x00"}

    sent = await press(bot, user, form="summary", text=text, theme="weerstand-draagvlak", **who)

    assert "verstuurd" in said(sent)
    [stored] = await bot.app[APP_KEY].help_desk.mine(user.aad_object_id)
    assert stored.text == "Eerste regel met een NUL\nTweede regel"  # the lines kept
    assert stored.directorate == "Wonen"


@pytest.mark.parametrize("forged", ["²", "9" * 5000, "٣"])
async def test_a_forged_team_size_gets_the_retry_not_an_error(bot: RunningBot, forged: str) -> None:
    # "²" passes str.isdigit but not int(); 5,000 digits pass neither int()'s limit: the turn
    # failed with the apology instead of asking for a number.
    user = bot.user()
    await press(bot, user, **{VERB_FIELD: Verb.HELP_REQUEST.value, "kind": "gespreksbegeleider"})
    await say(bot, user, TEXT)
    await press(bot, user, form="theme", theme="weerstand-draagvlak")

    shown = await press(bot, user, form="team", team_size=forged, weeks="week 12")

    assert "Vul een getal in van 1 tot 500." in said(shown)
    assert form_of(shown) == "team"


async def test_versturen_pressed_several_times_at_once_stores_one_request(bot: RunningBot) -> None:
    # A double click (or a delivery Teams retries) stored the request once per press, and the
    # Bureau got a card for each.
    user = bot.user()
    await ask_a_question(bot, user)
    summary = user.presses({"form": "summary", "text": TEXT, "theme": "weerstand-draagvlak", **WHO})

    async def send() -> int:
        async with bot.http.post(bot.url + "/api/messages", json=summary) as response:
            return response.status

    await asyncio.gather(*(send() for _ in range(3)))

    assert len(await rows(bot, user)) == 1
