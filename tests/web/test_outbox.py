"""The running app's dispatcher: a message a service queues reaches the person's chat."""

from __future__ import annotations

from bot.app import APP_KEY
from services.outbox import MessageKind, Recipient, queue_message
from storage.db import create_session_factory
from storage.uow import UnitOfWork
from tests.web.conftest import RunningBot


async def test_a_queued_message_is_sent_by_the_app_to_the_persons_chat(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user(locale="en-US")
    status, _ = await running_bot.send(user.activity(text="menu"))  # stores where they are
    assert status in (200, 201)
    before = len(running_bot.connector.received)
    session_factory = create_session_factory(running_bot.app[APP_KEY].engine)

    async with UnitOfWork(session_factory) as uow:
        await queue_message(
            uow=uow,
            to=Recipient.person(user.aad_object_id),
            kind=MessageKind.URGENT,
            template="stopped",
            data={},
            key="test:stopped",
        )
        await uow.commit()
    [message] = await running_bot.connector.wait_for_messages(after=before)

    assert message["conversation"]["id"] == user.conversation_id
    templates = running_bot.app[APP_KEY].replies.templates
    assert message["text"] == templates.text("stopped", "en")  # the user's locale
