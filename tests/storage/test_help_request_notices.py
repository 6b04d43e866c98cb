"""The requester's notices are queued with each change, in its unit of work, once per change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import help_request_actions as actions
from services.help_request_channel import channel_post_key
from services.help_requests import Status
from storage.crypto import TextCipher, generate_key
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.storage.test_help_requests import (
    ANNA,
    BRAM,
    MONDAY,
    REQUESTER,
    UowFactory,
    new_request,
    submitted,
)


@pytest.fixture
def new_uow(db_session_factory: async_sessionmaker[AsyncSession]) -> UowFactory:
    cipher = TextCipher([generate_key()])
    return lambda: UnitOfWork(db_session_factory, cipher=cipher)


async def notices(factory: async_sessionmaker[AsyncSession]) -> list[tuple[str, dict[str, object]]]:
    async with factory() as db:
        rows = await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient_owner == REQUESTER.id)
            .order_by(OutboxMessage.id)
        )
        return [(row.kind, json.loads(row.data)) for row in rows]


def events(found: list[tuple[str, dict[str, object]]]) -> list[object]:
    return [data["event"] for _, data in found]


async def test_each_change_queues_one_notice_and_notes_queue_none(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    request = await submitted(new_uow)
    assert await notices(db_session_factory) == []  # asking is not news to the asker

    async with new_uow() as uow:
        await actions.assign(uow=uow, request_id=request.id, actor=ANNA, to=ANNA, now=MONDAY)
    async with new_uow() as uow:
        await actions.assign(uow=uow, request_id=request.id, actor=ANNA, to=BRAM, now=MONDAY)
    async with new_uow() as uow:  # the same assignee again: no change, no notice
        await actions.assign(uow=uow, request_id=request.id, actor=ANNA, to=BRAM, now=MONDAY)
    async with new_uow() as uow:
        await actions.note(uow=uow, request_id=request.id, actor=BRAM, text="intern", now=MONDAY)
    async with new_uow() as uow:
        await actions.change_status(
            uow=uow, request_id=request.id, actor=BRAM, to=Status.WAITING_FOR_REQUESTER, now=MONDAY
        )

    found = await notices(db_session_factory)
    assert events(found) == ["claimed", "assigned", "status"]
    assert found[-1][1]["status"] == "waiting_for_requester"
    assert {kind for kind, _ in found} == {"notice"}
    assert "Bram" not in json.dumps(found)  # notices name no one at the Bureau


async def test_a_reply_is_queued_at_once_with_its_text_sealed(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    request = await submitted(new_uow)

    async with new_uow() as uow:
        await actions.reply(
            uow=uow, request_id=request.id, actor=ANNA, text="Een geheim antwoord", now=MONDAY
        )

    [(kind, data)] = await notices(db_session_factory)
    assert (kind, data["event"], data["request"]) == ("urgent", "reply", request.id)
    assert "text" not in data and "geheim" not in json.dumps(data)


async def test_a_claim_that_loses_queues_nothing(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    request = await submitted(new_uow)
    for person in (ANNA, BRAM):
        async with new_uow() as uow:
            await actions.claim(uow=uow, request_id=request.id, by=person, now=MONDAY)

    assert events(await notices(db_session_factory)) == ["claimed"]


async def test_an_answer_while_waiting_puts_it_in_progress_and_goes_to_the_thread_sealed(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with new_uow() as uow:
        request = await actions.submit(
            uow=uow, request=new_request(), now=MONDAY, channel_id="19:queue@thread.tacv2"
        )
    async with new_uow() as uow:
        await actions.claim(uow=uow, request_id=request.id, by=ANNA, now=MONDAY)
    async with new_uow() as uow:
        await actions.change_status(
            uow=uow, request_id=request.id, actor=ANNA, to=Status.WAITING_FOR_REQUESTER, now=MONDAY
        )

    async with new_uow() as uow:
        answered = await actions.answer(
            uow=uow, request_id=request.id, requester=REQUESTER, text="Twaalf mensen", now=MONDAY
        )

    assert answered.status is Status.IN_PROGRESS
    async with db_session_factory() as db:
        rows = list(
            await db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.idempotency_key.like(f"{channel_post_key(request.id)}%"))
                .order_by(OutboxMessage.id)
            )
        )
    post, thread, update = rows
    assert (post.action, post.recipient_owner) == ("send", "19:queue@thread.tacv2")
    assert (thread.action, thread.target_key) == ("reply", channel_post_key(request.id))
    assert (update.action, update.target_key) == ("update", channel_post_key(request.id))
    assert "Twaalf" not in thread.data and "Twaalf" not in update.data
    assert json.loads(update.data)["status"] == "in_progress"
    # The requester caused it: no notice of their own change.
    assert events(await notices(db_session_factory)) == ["claimed", "status"]


async def test_an_answer_to_a_request_without_a_card_is_stored_and_posted_nowhere(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    request = await submitted(new_uow)  # no channel was set

    async with new_uow() as uow:
        await actions.answer(
            uow=uow, request_id=request.id, requester=REQUESTER, text="Nog iets", now=MONDAY
        )
        messages = await uow.help_requests.messages(request.id)

    assert [m.body for m in messages] == ["Nog iets"]
    async with db_session_factory() as db:
        assert list(await db.scalars(select(OutboxMessage))) == []
