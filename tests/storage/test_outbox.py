"""The outbox in SQL: queued with the change, once per key, leased once, in order per recipient."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.conversations import ConversationRecord, ConversationScope, remember_conversation
from services.outbox import (
    SEALED_FIELD,
    MessageKind,
    OutboxState,
    Recipient,
    cancel_messages,
    queue_message,
    reminders_on,
    set_reminders,
)
from storage.crypto import TextCipher, generate_key
from storage.models import ConversationReferenceRecord, OutboxMessage
from storage.outbox import ClaimedMessage
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday morning
LEASE = timedelta(seconds=60)
SessionFactory = async_sessionmaker[AsyncSession]


def person(aad: str) -> ConversationRecord:
    return ConversationRecord(
        scope=ConversationScope.PERSONAL,
        owner=aad,
        tenant_id="city-tenant",
        channel_id="msteams",
        service_url="https://smba.trafficmanager.net/emea/",
        conversation_id=f"a:{aad}",
        bot_id="28:bot",
        locale="en-US",
        reference={"conversation": {"id": f"a:{aad}"}},
    )


async def queue(
    session_factory: SessionFactory,
    key: str,
    *,
    to: Recipient | None = None,
    due: datetime = NOW,
    kind: MessageKind = MessageKind.URGENT,
) -> bool:
    async with UnitOfWork(session_factory) as uow:
        queued = await queue_message(
            uow=uow,
            to=to or Recipient.person("user-1"),
            kind=kind,
            template="menu",
            data={"n": 1},
            key=key,
            due=due,
        )
        await uow.commit()
    return queued


async def claim(
    session_factory: SessionFactory, owner: str = "a", *, now: datetime = NOW, limit: int = 100
) -> list[ClaimedMessage]:
    async with UnitOfWork(session_factory) as uow:
        claimed = await uow.outbox.claim(owner=owner, now=now, lease=LEASE, limit=limit)
        await uow.commit()
    return claimed


async def count(session_factory: SessionFactory) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_message_is_kept_only_when_its_unit_of_work_commits(
    db_session_factory: SessionFactory,
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        await queue_message(
            uow=uow, to=Recipient.person("u"), kind=MessageKind.URGENT, template="menu",
            data={}, key="dropped", due=NOW,
        )  # fmt: skip
        # no commit: the change failed, so its message must go too

    assert await count(db_session_factory) == 0


async def test_the_same_key_is_queued_once(db_session_factory: SessionFactory) -> None:
    assert await queue(db_session_factory, "reminder:1:24h") is True
    assert await queue(db_session_factory, "reminder:1:24h") is False

    assert await count(db_session_factory) == 1


async def test_two_writers_queueing_one_key_at_once_give_one_row(
    db_session_factory: SessionFactory,
) -> None:
    results = await asyncio.gather(*(queue(db_session_factory, "notice:7") for _ in range(5)))

    assert sorted(results) == [False, False, False, False, True]
    assert await count(db_session_factory) == 1


async def test_data_that_is_not_json_is_refused_when_queued(
    db_session_factory: SessionFactory,
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        with pytest.raises(TypeError):
            await queue_message(
                uow=uow, to=Recipient.person("u"), kind=MessageKind.URGENT, template="menu",
                data={"when": NOW}, key="k", due=NOW,
            )  # fmt: skip


async def test_claim_takes_due_messages_once_and_the_first_of_each_recipient_only(
    db_session_factory: SessionFactory,
) -> None:
    await queue(db_session_factory, "one-1", to=Recipient.person("one"))
    await queue(db_session_factory, "one-2", to=Recipient.person("one"))
    await queue(db_session_factory, "two-1", to=Recipient.person("two"))
    await queue(db_session_factory, "later", to=Recipient.person("three"), due=NOW + LEASE)

    first = await claim(db_session_factory, "a")
    again = await claim(db_session_factory, "b")

    assert [(m.owner, m.id) for m in first] == [("one", 1), ("two", 3)]
    assert again == []  # leased by a, and one-2 waits for one-1


async def test_the_next_message_of_a_recipient_comes_once_the_first_is_sent(
    db_session_factory: SessionFactory,
) -> None:
    await queue(db_session_factory, "one-1", to=Recipient.person("one"))
    await queue(db_session_factory, "one-2", to=Recipient.person("one"))
    [first] = await claim(db_session_factory, "a")
    async with UnitOfWork(db_session_factory) as uow:
        assert await uow.outbox.mark_sent(
            first.id, owner="a", conversation_id="c", activity_id="x", now=NOW
        )
        await uow.commit()

    [second] = await claim(db_session_factory, "a")

    assert second.id == 2


async def test_an_expired_lease_is_taken_over_and_the_old_owner_can_no_longer_finish_it(
    db_session_factory: SessionFactory,
) -> None:
    await queue(db_session_factory, "k")
    [mine] = await claim(db_session_factory, "dead")

    [taken] = await claim(db_session_factory, "alive", now=NOW + LEASE)
    async with UnitOfWork(db_session_factory) as uow:
        late = await uow.outbox.mark_sent(
            mine.id, owner="dead", conversation_id=None, activity_id=None, now=NOW
        )

    assert taken.id == mine.id
    assert late is False


async def test_a_message_waiting_to_be_tried_again_holds_up_later_ones(
    db_session_factory: SessionFactory,
) -> None:
    await queue(db_session_factory, "one-1", to=Recipient.person("one"))
    await queue(db_session_factory, "one-2", to=Recipient.person("one"))
    [first] = await claim(db_session_factory)
    async with UnitOfWork(db_session_factory) as uow:
        await uow.outbox.mark_retry(first.id, owner="a", at=NOW + LEASE, reason="http 503")
        await uow.commit()

    assert await claim(db_session_factory) == []
    assert [m.id for m in await claim(db_session_factory, now=NOW + LEASE)] == [1]


async def test_claimed_messages_carry_reference_preference_and_unreachable_mark(
    db_session_factory: SessionFactory,
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        await remember_conversation(uow=uow, reference=person("user-1"))
    async with UnitOfWork(db_session_factory) as uow:
        await set_reminders(uow=uow, aad_object_id="user-1", on=False)
    async with UnitOfWork(db_session_factory) as uow:
        await uow.outbox.mark_unreachable(scope="personal", owner="user-1", now=NOW)
        await uow.commit()
    await queue(db_session_factory, "k", kind=MessageKind.REMINDER)

    [message] = await claim(db_session_factory)

    assert message.reference is not None and message.reference.locale == "en-US"
    assert (message.unreachable, message.reminders_on, message.data) == (True, False, {"n": 1})


async def test_a_new_turn_clears_the_unreachable_mark(db_session_factory: SessionFactory) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        await remember_conversation(uow=uow, reference=person("user-1"))
    async with UnitOfWork(db_session_factory) as uow:
        await uow.outbox.mark_unreachable(scope="personal", owner="user-1", now=NOW)
        await uow.commit()

    async with UnitOfWork(db_session_factory) as uow:
        await remember_conversation(uow=uow, reference=person("user-1"))

    async with db_session_factory() as session:
        mark = await session.scalar(select(ConversationReferenceRecord.unreachable_since))
    assert mark is None


async def test_reminders_are_on_until_turned_off_and_back_on(
    db_session_factory: SessionFactory,
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        assert await reminders_on(uow=uow, aad_object_id="u") is True
        await set_reminders(uow=uow, aad_object_id="u", on=False)
        assert await reminders_on(uow=uow, aad_object_id="u") is False
        await set_reminders(uow=uow, aad_object_id="u", on=True)
        assert await reminders_on(uow=uow, aad_object_id="u") is True


async def test_an_update_goes_to_the_recipient_of_the_message_it_edits(
    db_session_factory: SessionFactory,
) -> None:
    await queue(db_session_factory, "post", to=Recipient.channel("19:bureau@thread.tacv2"))
    await queue(db_session_factory, "edit", to=Recipient.update_of("post"))

    async with db_session_factory() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(r.recipient_scope, r.recipient_owner, r.action, r.target_key) for r in rows] == [
        ("channel", "19:bureau@thread.tacv2", "send", None),
        ("channel", "19:bureau@thread.tacv2", "update", "post"),
    ]


async def test_an_update_of_an_unknown_message_is_refused(
    db_session_factory: SessionFactory,
) -> None:
    with pytest.raises(ValueError, match="queued before"):
        await queue(db_session_factory, "edit", to=Recipient.update_of("nothing"))


async def test_status_counts_states_and_failure_reasons_and_the_oldest_due_age(
    db_session_factory: SessionFactory,
) -> None:
    for key in ("a", "b", "c"):
        await queue(db_session_factory, key, to=Recipient.person(key), due=NOW - timedelta(hours=1))
    first, *_ = await claim(db_session_factory, now=NOW)
    async with UnitOfWork(db_session_factory) as uow:
        await uow.outbox.mark_done(first.id, owner="a", state=OutboxState.FAILED, reason="http 400")
        await uow.commit()

    async with UnitOfWork(db_session_factory) as uow:
        status = await uow.outbox.status(now=NOW)
        assert await uow.outbox.retry(first.id, now=NOW)
        await uow.commit()

    assert dict(status.by_state) == {"failed": 1, "pending": 2}
    assert dict(status.failures_by_reason) == {"http 400": 1}
    assert status.oldest_due_seconds == 3600
    assert sorted(m.id for m in await claim(db_session_factory, "b", now=NOW + LEASE)) == [1, 2, 3]


async def test_concurrent_claims_on_postgres_never_take_the_same_message(postgres_url: str) -> None:
    from storage.db import create_engine, create_session_factory

    engine = create_engine(postgres_url)
    try:
        session_factory = create_session_factory(engine)
        for n in range(200):
            await queue(session_factory, f"k{n}", to=Recipient.person(f"user-{n}"))

        batches = await asyncio.gather(
            *(claim(session_factory, f"owner-{n}", limit=30) for n in range(8))
        )

        ids = [m.id for batch in batches for m in batch]
        assert len(ids) == len(set(ids)) == 200
    finally:
        await engine.dispose()


async def test_cancel_skips_the_unsent_messages_under_a_key_prefix_only(
    db_session_factory: SessionFactory,
) -> None:
    await queue(db_session_factory, "place/7/reminder/1440m")
    await queue(db_session_factory, "place/7/evaluation", to=Recipient.person("other"))
    await queue(db_session_factory, "place/70/reminder/1440m", to=Recipient.person("third"))
    await queue(db_session_factory, "place_7/x", to=Recipient.person("fourth"))  # _ is no wildcard

    async with UnitOfWork(db_session_factory) as uow:
        await cancel_messages(uow=uow, key_prefix="place/7/")
        await uow.commit()

    async with db_session_factory() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(r.idempotency_key, r.state) for r in rows] == [
        ("place/7/reminder/1440m", "skipped"),
        ("place/7/evaluation", "skipped"),
        ("place/70/reminder/1440m", "pending"),
        ("place_7/x", "pending"),
    ]


async def test_the_sessions_queue_writes_a_personal_message_once_per_key(
    db_session_factory: SessionFactory,
) -> None:
    async with UnitOfWork(db_session_factory) as uow:
        for _ in range(2):
            await uow.outbox.queue(
                recipient="aad-1", template="session_reminder", data={"session_id": 3},
                key="r", due_at=NOW, kind="reminder",
            )  # fmt: skip
        await uow.outbox.queue(
            recipient="aad-1", template="session_place_offered", data={}, key="u", due_at=NOW,
            urgent=True,
        )  # fmt: skip
        await uow.commit()

    async with db_session_factory() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(r.recipient_scope, r.recipient_owner, r.kind) for r in rows] == [
        ("personal", "aad-1", "reminder"),
        ("personal", "aad-1", "urgent"),
    ]


SECRET = "Mijn collega zei iets kwetsends"


async def queue_private(session_factory: SessionFactory, cipher: TextCipher | None) -> None:
    async with UnitOfWork(session_factory, cipher=cipher) as uow:
        await queue_message(
            uow=uow, to=Recipient.person("user-1"), kind=MessageKind.URGENT, template="menu",
            data={"n": 1, "text": SECRET}, key="reply:1", due=NOW, private={"text"},
        )  # fmt: skip
        await uow.commit()


async def test_private_fields_never_sit_in_the_outbox_in_plain_text(
    db_session_factory: SessionFactory,
) -> None:
    cipher = TextCipher([generate_key()])
    await queue_private(db_session_factory, cipher)

    async with db_session_factory() as session:
        stored = (await session.execute(select(OutboxMessage.__table__))).one()
    assert all(SECRET not in str(value) for value in stored)
    assert json.loads(stored.data)["n"] == 1  # what is not private stays readable

    async with UnitOfWork(db_session_factory, cipher=cipher) as uow:
        [message] = await uow.outbox.claim(owner="a", now=NOW, lease=LEASE, limit=10)
    assert message.data == {"n": 1, "text": SECRET}
    assert message.unreadable is False


async def test_private_fields_no_key_opens_are_marked_unreadable_not_guessed(
    db_session_factory: SessionFactory,
) -> None:
    await queue_private(db_session_factory, TextCipher([generate_key()]))

    async with UnitOfWork(db_session_factory, cipher=TextCipher([generate_key()])) as uow:
        [message] = await uow.outbox.claim(owner="a", now=NOW, lease=LEASE, limit=10)
    assert message.unreadable is True
    assert message.data == {"n": 1}


async def test_private_fields_need_a_cipher_and_must_be_in_the_data(
    db_session_factory: SessionFactory,
) -> None:
    with pytest.raises(RuntimeError):
        await queue_private(db_session_factory, None)
    async with UnitOfWork(db_session_factory, cipher=TextCipher([generate_key()])) as uow:
        with pytest.raises(ValueError):
            await queue_message(
                uow=uow, to=Recipient.person("u"), kind=MessageKind.URGENT, template="menu",
                data={"n": 1}, key="k", due=NOW, private={"text"},
            )  # fmt: skip
        with pytest.raises(ValueError):
            await queue_message(
                uow=uow, to=Recipient.person("u"), kind=MessageKind.URGENT, template="menu",
                data={SEALED_FIELD: "forged"}, key="k", due=NOW,
            )  # fmt: skip
    assert await count(db_session_factory) == 0
