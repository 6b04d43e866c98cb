"""Signing up for a wethouder conversation through /api/messages, pressed as Teams posts it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.card_text import Button, CardText, card_text
from bot.chat import TeamsUser
from content.verbs import VERB_FIELD, Verb
from services.session_admin import create_session
from services.session_types import AMSTERDAM, Audience, SessionDetails, SessionInfo
from storage.db import create_engine, create_session_factory
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.web.conftest import RunningBot
from tests.web.test_messages import cards

OFFER = "wethoudersgesprekken"


def _in_a_month() -> datetime:
    day = (datetime.now(UTC) + timedelta(days=30)).astimezone(AMSTERDAM).date()
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=AMSTERDAM)


async def plan(running_bot: RunningBot, **changes: Any) -> SessionInfo:
    values: dict[str, Any] = {
        "offer": OFFER,
        "starts_at": _in_a_month(),
        "theme": "Inclusief leidinggeven",
        "questions": ("Wat merk je sinds het rapport?",),
        "location": "Amstelpark 22",
        "audience": Audience.MANAGERS,
    }
    values.update(changes)
    engine = create_engine(running_bot.database_url)
    try:
        async with UnitOfWork(create_session_factory(engine)) as uow:
            return await create_session(
                uow=uow, details=SessionDetails(**values), offers_with_dates=[OFFER]
            )
    finally:
        await engine.dispose()


async def outbox(running_bot: RunningBot, person: str) -> list[OutboxMessage]:
    engine = create_engine(running_bot.database_url)
    try:
        async with create_session_factory(engine)() as db:
            rows = await db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient_owner == person)
                .order_by(OutboxMessage.id)
            )
            return list(rows)
    finally:
        await engine.dispose()


async def press(
    running_bot: RunningBot, user: TeamsUser, verb: Verb, **data: Any
) -> list[CardText]:
    _, messages = await running_bot.send(user.presses({VERB_FIELD: verb.value, **data}))
    shown = [card_text(card) for card in cards(messages)]
    shown += [CardText(lines=[m["text"]]) for m in messages if m.get("text")]
    return shown


def text_of(shown: list[CardText]) -> str:
    return "\n".join(line for card in shown for line in card.lines)


def button(shown: list[CardText], title: str) -> Button:
    return next(b for card in shown for b in card.buttons if b.title == title)


async def sign_up(
    running_bot: RunningBot, user: TeamsUser, session: SessionInfo, **inputs: str
) -> list[CardText]:
    form = {"function": "Teamleider", "directorate": "Belastingen", "manager": "yes"}
    form.update({"consent": "true", **inputs})
    return await press(running_bot, user, Verb.SESSION_SIGNUP, session=session.id, **form)


async def test_the_menu_button_lists_the_sessions_with_their_details(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)

    shown = await press(running_bot, running_bot.user(), Verb.WETHOUDER)

    text = text_of(shown)
    assert "Gesprekken met de wethouder" in text
    assert "15.00 tot 16.30 uur" in text
    assert "Amstelpark 22" in text
    assert "Alleen leidinggevenden" in text
    assert "Plekken: Nog 8 plekken vrij" in text
    assert button(shown, "Meld je aan").data == {
        VERB_FIELD: Verb.SESSION_FORM.value,
        "session": session.id,
    }


async def test_the_form_shows_the_agreements_of_the_wethouder_conversations(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)

    shown = await press(running_bot, running_bot.user(), Verb.SESSION_FORM, session=session.id)

    text = text_of(shown)
    assert "Er komt geen verslag" in text
    assert "Bureau Integriteit luistert mee" in text
    assert "signalen wel door" in text
    assert "De wethouder krijgt vooraf de lijst met deelnemers" in text
    assert "Wat merk je sinds het rapport?" in text
    assert {i.id for card in shown for i in card.inputs} == {
        "function",
        "directorate",
        "manager",
        "consent",
    }


async def test_a_manager_signs_up_gets_a_place_and_reminders_are_queued(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    user = running_bot.user()

    shown = await sign_up(running_bot, user, session)

    assert "Je bent aangemeld" in text_of(shown)
    queued = await outbox(running_bot, user.aad_object_id)
    assert [(m.template, m.kind) for m in queued] == [
        ("session_reminder", "reminder"),
        ("session_reminder", "reminder"),
        ("session_evaluation", "evaluation"),
    ]
    assert json.loads(queued[0].data)["s"]["session_id"] == session.id


async def test_the_ninth_manager_hears_their_place_on_the_waiting_list(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    for _ in range(8):
        await sign_up(running_bot, running_bot.user(), session)

    shown = await sign_up(running_bot, running_bot.user(), session)

    assert "Je staat op plek 1 van de wachtlijst" in text_of(shown)


async def test_an_employee_is_refused_a_managers_only_session_and_shown_open_ones(
    running_bot: RunningBot,
) -> None:
    managers_only = await plan(running_bot)
    open_one = await plan(
        running_bot, audience=Audience.EVERYONE, starts_at=_in_a_month() + timedelta(days=7)
    )
    user = running_bot.user()

    shown = await sign_up(running_bot, user, managers_only, manager="no")

    assert "alleen voor leidinggevenden" in text_of(shown)
    assert button(shown, "Meld je aan").data["session"] == open_one.id
    assert await outbox(running_bot, user.aad_object_id) == []


async def test_a_form_without_consent_comes_back_with_what_was_typed(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    user = running_bot.user()

    shown = await sign_up(running_bot, user, session, consent="false")

    assert "Zet het vinkje bij de afspraken aan" in text_of(shown)
    shown = await press(running_bot, user, Verb.MY_SESSIONS)
    assert "Je bent nu niet aangemeld" in text_of(shown)


async def test_cancelling_offers_the_place_to_the_first_waiting_who_can_take_it(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot, capacity=1)
    first, second = running_bot.user(), running_bot.user()
    await sign_up(running_bot, first, session)
    await sign_up(running_bot, second, session)

    mine = await press(running_bot, first, Verb.MY_SESSIONS)
    assert "Je hebt een plek" in text_of(mine)
    cancel = button(mine, "Meld me af")
    shown = await press(running_bot, first, Verb.SESSION_CANCEL, session=cancel.data["session"])

    assert "Je bent afgemeld" in text_of(shown)
    offered = [m for m in await outbox(running_bot, second.aad_object_id)]
    assert [(m.template, m.kind) for m in offered] == [("session_place_offered", "urgent")]
    first_messages = await outbox(running_bot, first.aad_object_id)
    assert {m.state for m in first_messages} == {"skipped"}  # no reminders for a cancelled place

    mine = await press(running_bot, second, Verb.MY_SESSIONS)
    assert "Er is een plek voor je vrij" in text_of(mine)
    shown = await press(running_bot, second, Verb.SESSION_ACCEPT, session=session.id)
    assert "Je bent aangemeld" in text_of(shown)


async def test_english_locale_gets_english_cards(running_bot: RunningBot) -> None:
    await plan(running_bot)

    shown = await press(running_bot, running_bot.user(locale="en-US"), Verb.WETHOUDER)

    assert "Conversations with the alderman" in text_of(shown)
    assert "15:00 to 16:30" in text_of(shown)


async def test_a_forged_session_number_gets_the_stale_card_and_changes_nothing(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    form = {"function": "Teamleider", "directorate": "X", "manager": "yes", "consent": "true"}

    # "²" passes str.isdigit but not int(); 2**70 passes int() but not the database.
    for forged in (999, "x", None, True, -1, "1" * 30, "²", "١٢", 2**70, 2**31, 1.0):
        shown = await press(running_bot, user, Verb.SESSION_SIGNUP, session=forged, **form)
        assert "Deze kaart is niet meer actueel" in text_of(shown)
    assert await outbox(running_bot, user.aad_object_id) == []


async def says(running_bot: RunningBot, user: TeamsUser, text: str) -> list[CardText]:
    _, messages = await running_bot.send(user.says(text))
    shown = [card_text(card) for card in cards(messages)]
    shown += [CardText(lines=[m["text"]]) for m in messages if m.get("text")]
    return shown


async def test_the_menu_has_my_sign_ups_and_the_wethouder_conversations(
    running_bot: RunningBot,
) -> None:
    shown = await says(running_bot, running_bot.user(), "menu")

    assert button(shown, "Mijn aanmeldingen").data == {VERB_FIELD: Verb.MY_SESSIONS.value}
    assert button(shown, "Gesprek met de wethouder").data == {VERB_FIELD: Verb.WETHOUDER.value}


async def test_typing_my_sign_ups_lists_them_instead_of_search_hits(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)
    user = running_bot.user()
    await sign_up(running_bot, user, session)

    for typed in ("mijn aanmeldingen", "Mijn aanmeldingen!"):
        shown = await says(running_bot, user, typed)
        assert "Mijn aanmeldingen" in text_of(shown)
        assert "Je hebt een plek" in text_of(shown)

    for typed in ("afmelden", "Ik wil me afmelden"):  # each place there has its cancel button
        assert "Je hebt een plek" in text_of(await says(running_bot, user, typed)), typed

    for typed in ("my sign-ups", "cancel my place"):
        english = await says(running_bot, running_bot.user(locale="en-US"), typed)
        assert "My sign-ups" in text_of(english), typed


async def test_typing_to_sign_up_for_the_wethouder_lists_the_sessions(
    running_bot: RunningBot,
) -> None:
    session = await plan(running_bot)

    for typed in (
        "aanmelden wethouder",
        "gesprek met de wethouder",
        "Wethoudersgesprekken",
        "Ik wil me aanmelden voor een gesprek met de wethouder.",
    ):
        shown = await says(running_bot, running_bot.user(), typed)
        assert button(shown, "Meld je aan").data["session"] == session.id, typed

    for typed in ("conversation with the alderman", "Sign up for the alderman conversation"):
        english = await says(running_bot, running_bot.user(locale="en-US"), typed)
        assert "Conversations with the alderman" in text_of(english), typed


async def test_typing_my_sign_ups_in_the_middle_of_the_finder_answers_it(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    await press(running_bot, user, Verb.FINDER)

    shown = await says(running_bot, user, "mijn aanmeldingen")

    assert "Je bent nu niet aangemeld" in text_of(shown)
