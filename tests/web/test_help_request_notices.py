"""The requester hears of every change through the outbox, in their own personal chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import APP_KEY
from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from content.verbs import VERB_FIELD, Verb
from services import help_request_actions as actions
from services.help_requests import Person, Status
from storage.db import create_session_factory
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.web.conftest import RunningBot, start_bot
from tests.web.test_help_requests import TEXT, buttons_of, press, said, submitted

pytestmark = pytest.mark.asyncio(loop_scope="module")

STAFF = Person("aad-bureau-1", "Bureau Medewerker")
REPLY = "Dank je. Hoe groot is je team? Dan zoeken we een gespreksbegeleider."


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    """A bot whose dispatcher sends notices at any hour (no quiet hours in a test)."""
    async for running in start_bot(
        tmp_path_factory.mktemp("bot"),
        LocalConnector(),
        QUIET_HOURS_START="00:00",
        QUIET_HOURS_END="00:00",
        QUIET_HOURS_WEEKENDS=False,
    ):
        yield running


def bureau_uow(bot: RunningBot) -> UnitOfWork:
    wegwijzer = bot.app[APP_KEY]
    return UnitOfWork(create_session_factory(wegwijzer.engine), cipher=wegwijzer.cipher)


async def outbox_of(bot: RunningBot, user: TeamsUser) -> list[OutboxMessage]:
    async with create_session_factory(bot.app[APP_KEY].engine)() as db:
        rows = await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient_owner == user.aad_object_id)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def delivered(
    bot: RunningBot, user: TeamsUser, after: int, count: int
) -> list[dict[str, Any]]:
    """Wait for `count` messages in the user's conversation after the first `after` activities."""
    return await bot.connector.wait_for_messages(
        count,
        after=after,
        where=lambda _, __, m: m["conversation"]["id"] == user.conversation_id,
    )


async def test_claim_reply_and_closing_reach_the_requester_in_their_chat(bot: RunningBot) -> None:
    user = bot.user()
    number = await submitted(bot, user)
    now = datetime.now(UTC)
    after = len(bot.connector.received)

    async with bureau_uow(bot) as uow:
        await actions.claim(uow=uow, request_id=number, by=STAFF, now=now)
    async with bureau_uow(bot) as uow:
        await actions.reply(uow=uow, request_id=number, actor=STAFF, text=REPLY, now=now)
    async with bureau_uow(bot) as uow:
        await actions.change_status(
            uow=uow, request_id=number, actor=STAFF, to=Status.CLOSED, now=now
        )
    claimed, replied, closed = await delivered(bot, user, after, 3)

    assert "behandelt je hulpvraag nu" in said([claimed])
    assert REPLY in said([replied])
    assert "Afgesloten" in said([closed])
    assert STAFF.name not in said([claimed, replied, closed])  # the notices name no one
    answer = [b for b in buttons_of([replied]) if b["data"].get(VERB_FIELD)]
    assert {VERB_FIELD: Verb.HELP_REQUEST_ANSWER_FORM.value, "request": number} in [
        b["data"] for b in answer
    ]
    rows = await outbox_of(bot, user)
    assert [(row.template, row.kind) for row in rows] == [
        ("help_request_notice", "notice"),
        ("help_request_notice", "urgent"),
        ("help_request_notice", "notice"),
    ]
    assert all("Hoe groot" not in row.data for row in rows)  # the reply is sealed at rest


async def test_the_requester_answers_a_reply_from_its_notice(bot: RunningBot) -> None:
    user = bot.user()
    number = await submitted(bot, user)
    after = len(bot.connector.received)
    async with bureau_uow(bot) as uow:
        await actions.reply(
            uow=uow, request_id=number, actor=STAFF, text=REPLY, now=datetime.now(UTC)
        )
    [notice] = await delivered(bot, user, after, 1)
    [answer] = [
        b
        for b in buttons_of([notice])
        if b["data"].get(VERB_FIELD) == Verb.HELP_REQUEST_ANSWER_FORM.value
    ]

    form = await press(bot, user, **answer["data"])
    [send] = [
        b for b in buttons_of(form) if b["data"].get(VERB_FIELD) == Verb.HELP_REQUEST_ANSWER.value
    ]
    sent = await press(bot, user, **send["data"], text="Twaalf mensen.")

    assert "naar het Bureau gestuurd" in said(sent)
    async with bureau_uow(bot) as uow:
        messages = await uow.help_requests.messages(number)
    assert [(m.kind.value, m.body) for m in messages] == [
        ("reply", REPLY),
        ("answer", "Twaalf mensen."),
    ]


async def test_the_requester_sees_their_question_and_the_messages_but_never_a_note(
    bot: RunningBot,
) -> None:
    user, other = bot.user(), bot.user()
    number = await submitted(bot, user)
    now = datetime.now(UTC)
    async with bureau_uow(bot) as uow:
        await actions.note(uow=uow, request_id=number, actor=STAFF, text="Intern: lastig", now=now)
    async with bureau_uow(bot) as uow:
        await actions.reply(uow=uow, request_id=number, actor=STAFF, text=REPLY, now=now)
    view = {VERB_FIELD: Verb.HELP_REQUEST_VIEW.value, "request": number}

    shown = said(await press(bot, user, **view))

    assert TEXT in shown
    assert REPLY in shown and "Bureau I&D, " in shown
    assert "Intern" not in shown and STAFF.name not in shown
    # Someone else's request: as if it did not exist.
    assert "Die hulpvraag kan ik niet vinden." in said(await press(bot, other, **view))


async def test_a_notice_speaks_the_requesters_language(bot: RunningBot) -> None:
    user = bot.user(locale="en-US")
    number = await submitted(bot, user)
    after = len(bot.connector.received)

    async with bureau_uow(bot) as uow:
        await actions.claim(uow=uow, request_id=number, by=STAFF, now=datetime.now(UTC))
    [claimed] = await delivered(bot, user, after, 1)

    assert f"News about your help request {number}" in said([claimed])
    assert "Someone at Bureau I&D is now handling your help request." in said([claimed])


async def test_an_answer_sent_twice_from_one_form_reaches_the_bureau_once(bot: RunningBot) -> None:
    # A double click on 'Stuur antwoord' stored the answer twice and posted it twice in the
    # request's thread in the Bureau's channel.
    user = bot.user()
    number = await submitted(bot, user)
    async with bureau_uow(bot) as uow:
        await actions.reply(
            uow=uow, request_id=number, actor=STAFF, text=REPLY, now=datetime.now(UTC)
        )
    form = await press(
        bot, user, **{VERB_FIELD: Verb.HELP_REQUEST_ANSWER_FORM.value}, request=number
    )
    [send] = [
        b for b in buttons_of(form) if b["data"].get(VERB_FIELD) == Verb.HELP_REQUEST_ANSWER.value
    ]
    assert send["data"].get("submission")  # the form carries the key of this rendering

    first = await press(bot, user, **send["data"], text="Twaalf mensen.")
    again = await press(bot, user, **send["data"], text="Twaalf mensen.")

    assert "naar het Bureau gestuurd" in said(first) and "naar het Bureau gestuurd" in said(again)
    async with bureau_uow(bot) as uow:
        messages = await uow.help_requests.messages(number)
    assert [m.kind.value for m in messages] == ["reply", "answer"]
    # A new form is a new answer.
    form = await press(
        bot, user, **{VERB_FIELD: Verb.HELP_REQUEST_ANSWER_FORM.value}, request=number
    )
    [send_again] = [
        b for b in buttons_of(form) if b["data"].get(VERB_FIELD) == Verb.HELP_REQUEST_ANSWER.value
    ]
    await press(bot, user, **send_again["data"], text="Twaalf mensen.")
    async with bureau_uow(bot) as uow:
        assert len(await uow.help_requests.messages(number)) == 3
