"""A person turns reminders off and on by typing it; the choice is stored by aadObjectId."""

from __future__ import annotations

from bot.app import APP_KEY
from services.outbox import reminders_on
from storage.db import create_session_factory
from storage.uow import UnitOfWork
from tests.web.conftest import RunningBot
from tests.web.test_sessions import plan, sign_up, text_of


async def test_typing_herinneringen_uit_and_aan_turns_reminders_off_and_on(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    templates = running_bot.app[APP_KEY].replies.templates
    session_factory = create_session_factory(running_bot.app[APP_KEY].engine)

    _, off = await running_bot.send(user.activity(text="Herinneringen uit"))
    async with UnitOfWork(session_factory) as uow:
        assert await reminders_on(uow=uow, aad_object_id=user.aad_object_id) is False
    _, on = await running_bot.send(user.activity(text="herinneringen aan"))
    async with UnitOfWork(session_factory) as uow:
        assert await reminders_on(uow=uow, aad_object_id=user.aad_object_id) is True

    assert [m["text"] for m in off] == [templates.text("reminders_off_done", "nl")]
    assert [m["text"] for m in on] == [templates.text("reminders_on_done", "nl")]


async def test_an_english_user_types_reminders_off_and_is_answered_in_english(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user(locale="en-US")
    templates = running_bot.app[APP_KEY].replies.templates

    _, replies = await running_bot.send(user.activity(text="reminders off"))

    assert [m["text"] for m in replies] == [templates.text("reminders_off_done", "en")]


async def test_a_place_taken_with_reminders_off_does_not_promise_a_reminder(
    running_bot: RunningBot,
) -> None:
    # The confirmation said "Je krijgt vooraf een herinnering" to someone who turned them off.
    session = await plan(running_bot)
    off, on = running_bot.user(), running_bot.user(locale="en-US")
    await running_bot.send(off.says("herinneringen uit"))

    quiet = text_of(await sign_up(running_bot, off, session))
    reminded = text_of(await sign_up(running_bot, on, session))

    assert "Je herinneringen staan uit, dus ik stuur je vooraf geen herinnering." in quiet
    assert "Je krijgt vooraf een herinnering" not in quiet
    assert "You will get a reminder in this chat beforehand." in reminded
