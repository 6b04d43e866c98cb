"""Conversation references in SQL: one row per user or channel, kept current atomically."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.conversations import (
    ConversationRecord,
    ConversationScope,
    find_conversation,
    remember_conversation,
)
from storage.models import ConversationReferenceRecord
from storage.repositories import _upsert_statement
from storage.uow import UnitOfWork

AAD_OBJECT_ID = "00000000-0000-0000-0000-0000000000aa"


def personal_chat(**changes: object) -> ConversationRecord:
    record = ConversationRecord(
        scope=ConversationScope.PERSONAL,
        owner=AAD_OBJECT_ID,
        tenant_id="city-tenant",
        channel_id="msteams",
        service_url="https://smba.trafficmanager.net/emea/",
        conversation_id="a:1personal",
        bot_id="28:bot",
        locale="nl-NL",
        reference={"conversation": {"id": "a:1personal"}, "user": {"id": "29:user"}},
    )
    return replace(record, **changes)  # type: ignore[arg-type]


async def remember(
    session_factory: async_sessionmaker[AsyncSession], record: ConversationRecord
) -> None:
    async with UnitOfWork(session_factory) as uow:
        await remember_conversation(uow=uow, reference=record)


Remember = Callable[[ConversationRecord], Awaitable[None]]


@pytest.fixture
def remember_through(db_session_factory: async_sessionmaker[AsyncSession]) -> Remember:
    """Remembers a record through the unit of work, the one way a domain write is made."""
    return partial(remember, db_session_factory)


async def find(
    session_factory: async_sessionmaker[AsyncSession], scope: str, owner: str
) -> ConversationRecord | None:
    async with UnitOfWork(session_factory) as uow:
        return await find_conversation(uow=uow, scope=scope, owner=owner)


async def stored_rows(
    session_factory: async_sessionmaker[AsyncSession],
) -> list[ConversationReferenceRecord]:
    async with session_factory() as session:
        return list(await session.scalars(select(ConversationReferenceRecord)))


async def test_remembered_conversation_is_found_as_it_was_given(
    db_session_factory: async_sessionmaker[AsyncSession], remember_through: Remember
) -> None:
    await remember_through(personal_chat())

    assert await find(db_session_factory, "personal", AAD_OBJECT_ID) == personal_chat()


async def test_unknown_owner_is_not_found(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    assert await find(db_session_factory, "personal", "someone-else") is None


async def test_remembering_again_refreshes_the_service_url_in_the_same_row(
    db_session_factory: async_sessionmaker[AsyncSession], remember_through: Remember
) -> None:
    await remember_through(personal_chat())
    [first] = await stored_rows(db_session_factory)

    moved = personal_chat(service_url="https://smba.trafficmanager.net/amer/", locale="en-US")
    await remember_through(moved)

    [row] = await stored_rows(db_session_factory)
    assert await find(db_session_factory, "personal", AAD_OBJECT_ID) == moved
    assert (row.id, row.created_at) == (first.id, first.created_at)
    assert row.updated_at >= first.updated_at


async def test_concurrent_first_messages_from_one_user_give_one_row(
    db_session_factory: async_sessionmaker[AsyncSession], remember_through: Remember
) -> None:
    records = [personal_chat(service_url=f"https://smba.example/{n}/") for n in range(8)]

    await asyncio.gather(*(remember_through(record) for record in records))

    rows = await stored_rows(db_session_factory)
    assert len(rows) == 1
    assert rows[0].service_url in {record.service_url for record in records}


async def test_a_channel_and_a_personal_chat_are_kept_apart_by_scope(
    db_session_factory: async_sessionmaker[AsyncSession], remember_through: Remember
) -> None:
    channel = personal_chat(scope=ConversationScope.CHANNEL, conversation_id="19:x@thread.tacv2")
    await remember_through(personal_chat())
    await remember_through(channel)

    assert await find(db_session_factory, "channel", AAD_OBJECT_ID) == channel
    assert len(await stored_rows(db_session_factory)) == 2


async def test_timestamps_are_timezone_aware_utc(
    db_session_factory: async_sessionmaker[AsyncSession], remember_through: Remember
) -> None:
    await remember_through(personal_chat())

    [row] = await stored_rows(db_session_factory)
    assert row.created_at.tzinfo is UTC
    assert row.updated_at.tzinfo is UTC


async def test_work_not_committed_is_rolled_back_when_the_block_ends(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        await uow.conversations.upsert(personal_chat())

    assert await find(db_session_factory, "personal", AAD_OBJECT_ID) is None


async def test_an_exception_rolls_back_the_unit_of_work(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError, match="Teams failed"):
        async with UnitOfWork(db_session_factory) as uow:
            await uow.conversations.upsert(personal_chat())
            raise RuntimeError("Teams failed")

    assert await find(db_session_factory, "personal", AAD_OBJECT_ID) is None


async def test_explicit_rollback_discards_work_since_the_last_commit(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        await uow.conversations.upsert(personal_chat())
        await uow.commit()
        await uow.conversations.upsert(personal_chat(locale="en-US"))
        await uow.rollback()

    found = await find(db_session_factory, "personal", AAD_OBJECT_ID)
    assert found is not None
    assert found.locale == "nl-NL"


async def test_a_unit_of_work_is_not_used_outside_or_twice_at_once(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    uow = UnitOfWork(db_session_factory)
    with pytest.raises(RuntimeError, match="enter the unit of work"):
        _ = uow.conversations
    async with uow:
        with pytest.raises(RuntimeError, match="already in use"):
            await uow.__aenter__()
    async with uow:  # once left, it can be entered again
        assert await uow.conversations.get(scope="personal", owner=AAD_OBJECT_ID) is None


async def test_other_sessions_read_without_waiting_and_see_committed_rows_only(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        await uow.conversations.upsert(personal_chat())
        async with db_session_factory() as other:
            count = await other.scalar(
                select(func.count()).select_from(ConversationReferenceRecord)
            )
        await uow.commit()

    assert count == 0
    assert len(await stored_rows(db_session_factory)) == 1


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.asyncpg.dialect()], ids=str)
def test_the_upsert_is_compiled_once_not_for_every_new_user(dialect: Dialect) -> None:
    # SQLAlchemy reuses a compiled statement by its cache key; its ON CONFLICT inserts have none,
    # so the upsert is kept as text with typed parameters, which has one.
    assert _upsert_statement(dialect)._generate_cache_key() is not None


async def test_a_batch_of_new_users_at_once_each_get_their_own_row(
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await asyncio.gather(
        *(remember(db_session_factory, personal_chat(owner=f"user-{n}")) for n in range(20))
    )

    rows = await stored_rows(db_session_factory)
    assert sorted(row.owner for row in rows) == sorted(f"user-{number}" for number in range(20))
    assert await find(db_session_factory, "personal", "user-7") == personal_chat(owner="user-7")
