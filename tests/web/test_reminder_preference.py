"""A person turns reminders off and on by typing it; the choice is stored by aadObjectId."""

from __future__ import annotations

from bot.app import APP_KEY
from services.outbox import reminders_on
from storage.db import create_session_factory
from storage.uow import UnitOfWork
from tests.web.conftest import RunningBot


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
