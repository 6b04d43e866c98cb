"""The dispatcher against a Bot Connector on loopback that throttles, fails, drops and refuses.

Whatever the connector answers: nothing lost, nothing doubled, the 429 pause honoured, the
unreachable recipient marked, and messages to one recipient in the order they were queued.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bench.outbox_connector import DROP
from services.outbox import MessageKind, Recipient, set_reminders
from services.quiet_hours import QuietHours
from storage.crypto import TextCipher, generate_key
from storage.models import ConversationReferenceRecord
from storage.uow import UnitOfWork
from tests.bot.outbox_fixtures import FAST, Outbox, sqlite_outbox

SATURDAY_NOON = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
MONDAY_8_AMSTERDAM = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@pytest.fixture
async def outbox(sqlite_url: str) -> AsyncIterator[Outbox]:
    async with sqlite_outbox(sqlite_url) as box:
        yield box


async def test_every_message_is_sent_once_in_the_order_queued_per_recipient(
    outbox: Outbox,
) -> None:
    people = ["anna", "bram", "cem"]
    for person in people:
        await outbox.remember(person)
    for n in range(3):
        for person in people:
            await outbox.queue(f"{person}-{n}", Recipient.person(person), n=n)

    sent = await outbox.dispatcher().run_once()

    assert sent == 9
    for person in people:
        received = outbox.connector.to(f"a:{person}")
        assert [r.text for r in received] == ["nl 0", "nl 1", "nl 2"]
        gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
        assert min(gaps) >= FAST.per_conversation_seconds * 0.95
    assert {row.state for row in await outbox.rows()} == {"sent"}


async def test_a_429_pauses_all_sending_for_its_retry_after_and_loses_nothing(
    outbox: Outbox,
) -> None:
    # Sends 0.2 s apart, so none is on its way when the 429 comes back; the first send
    # (a connection to open) is made before, so it cannot slow one and not the next.
    dispatcher = outbox.dispatcher(replace(FAST, rate_per_second=5))
    await outbox.remember("warm-up")
    await outbox.queue("warm-up", Recipient.person("warm-up"))
    await dispatcher.run_once()
    outbox.connector.received.clear()
    outbox.connector.attempts.clear()
    for person in ("anna", "bram", "cem"):
        await outbox.remember(person)
        await outbox.queue(person, Recipient.person(person))
    outbox.connector.any_call.append((429, 1.0))

    loop = asyncio.get_running_loop()
    started = loop.time()
    while len(outbox.connector.received) < 3:
        await dispatcher.run_once()
        await asyncio.sleep(0.05)

    throttled_at = next(at for at, _, what in outbox.connector.attempts if what == "429")
    after = sorted(at for at, _, what in outbox.connector.attempts if at > throttled_at)
    assert after[0] - throttled_at >= 0.95
    assert loop.time() - started >= 0.95
    assert sorted(r.conversation_id for r in outbox.connector.received) == [
        "a:anna", "a:bram", "a:cem",
    ]  # fmt: skip
    assert {(row.state, row.attempts) for row in await outbox.rows()} == {("sent", 1)}


async def test_5xx_and_dropped_connections_are_tried_again_until_sent(outbox: Outbox) -> None:
    await outbox.remember("anna")
    await outbox.queue("k", Recipient.person("anna"))
    outbox.connector.by_conversation["a:anna"].extend([503, DROP, 502])
    dispatcher = outbox.dispatcher()

    for _ in range(100):
        await dispatcher.run_once()
        if outbox.connector.received:
            break
        await asyncio.sleep(0.05)

    [row] = await outbox.rows()
    assert [what for _, _, what in outbox.connector.attempts] == ["503", DROP, "502", "ok"]
    assert (row.state, row.attempts, len(outbox.connector.received)) == ("sent", 4, 1)


async def test_a_message_that_keeps_failing_is_failed_with_its_reason_and_the_next_goes(
    outbox: Outbox,
) -> None:
    await outbox.remember("anna")
    await outbox.queue("first", Recipient.person("anna"), n=1)
    await outbox.queue("second", Recipient.person("anna"), n=2)
    outbox.connector.by_conversation["a:anna"].extend([504] * FAST.max_attempts)
    dispatcher = outbox.dispatcher()

    for _ in range(100):
        await dispatcher.run_once()
        if outbox.connector.received:
            break
        await asyncio.sleep(0.05)

    first, second = await outbox.rows()
    assert (first.state, first.reason, first.attempts) == ("failed", "http 504", FAST.max_attempts)
    assert second.state == "sent"
    assert [r.text for r in outbox.connector.received] == ["nl 2"]


@pytest.mark.parametrize("status", [403, 404])
async def test_403_and_404_mark_the_recipient_unreachable_until_their_next_turn(
    outbox: Outbox, status: int
) -> None:
    await outbox.remember("anna")
    await outbox.queue("first", Recipient.person("anna"), n=1)
    await outbox.queue("second", Recipient.person("anna"), n=2)
    outbox.connector.by_conversation["a:anna"].append(status)

    await outbox.dispatcher().run_once()

    first, second = await outbox.rows()
    assert (first.state, first.reason) == ("unreachable", f"http {status}")
    assert (second.state, second.reason) == ("unreachable", "unreachable since an earlier message")
    assert len(outbox.connector.attempts) == 1  # the second was not tried
    async with outbox.session_factory() as session:
        assert await session.scalar(select(ConversationReferenceRecord.unreachable_since))

    await outbox.remember("anna")  # they talk to the bot again
    await outbox.queue("third", Recipient.person("anna"), n=3)
    await outbox.dispatcher().run_once()

    assert [r.text for r in outbox.connector.received] == ["nl 3"]


async def test_a_person_without_a_chat_gets_one_created_and_kept(outbox: Outbox) -> None:
    await outbox.remember("bureau-member")  # any reference in the tenant says where Teams is
    await outbox.queue("first", Recipient.person("new-person"), n=1)
    await outbox.queue("second", Recipient.person("new-person"), n=2)

    await outbox.dispatcher().run_once()

    assert outbox.connector.created == ["new-person"]  # once: the second used the stored chat
    assert [r.text for r in outbox.connector.to("a:new-new-person")] == ["nl 1", "nl 2"]
    async with outbox.session_factory() as session:
        owners = set(await session.scalars(select(ConversationReferenceRecord.owner)))
    assert owners == {"bureau-member", "new-person"}


async def test_a_person_who_never_installed_the_app_is_recorded_unreachable(
    outbox: Outbox,
) -> None:
    await outbox.remember("bureau-member")
    outbox.connector.unknown_members.add("stranger")
    await outbox.queue("k", Recipient.person("stranger"))

    await outbox.dispatcher().run_once()

    [row] = await outbox.rows()
    assert (row.state, row.reason) == ("unreachable", "http 403")
    assert outbox.connector.received == []


async def test_a_reminder_is_skipped_while_reminders_are_off_and_a_notice_is_not(
    outbox: Outbox,
) -> None:
    await outbox.remember("anna")
    async with UnitOfWork(outbox.session_factory) as uow:
        await set_reminders(uow=uow, aad_object_id="anna", on=False)
    await outbox.queue("reminder", Recipient.person("anna"), kind=MessageKind.REMINDER, n=1)
    await outbox.queue("urgent", Recipient.person("anna"), kind=MessageKind.URGENT, n=2)

    await outbox.dispatcher().run_once()

    reminder, urgent = await outbox.rows()
    assert (reminder.state, reminder.reason, urgent.state) == ("skipped", "reminders off", "sent")
    assert [r.text for r in outbox.connector.received] == ["nl 2"]


async def test_quiet_hours_move_a_reminder_to_monday_morning_but_urgent_goes_now(
    outbox: Outbox,
) -> None:
    await outbox.remember("anna")
    due = SATURDAY_NOON
    await outbox.queue("reminder", Recipient.person("anna"), kind=MessageKind.REMINDER, due=due)
    await outbox.queue("urgent", Recipient.person("anna"), kind=MessageKind.URGENT, due=due)

    await outbox.dispatcher(quiet_hours=QuietHours(), clock=lambda: SATURDAY_NOON).run_once()

    reminder, urgent = await outbox.rows()
    assert (reminder.state, reminder.due_at, reminder.attempts) == (
        "pending", MONDAY_8_AMSTERDAM, 0,
    )  # fmt: skip
    assert urgent.state == "sent"


async def test_a_channel_post_then_a_reply_in_its_thread_then_an_update_of_the_post(
    outbox: Outbox,
) -> None:
    channel = "19:bureau@thread.tacv2"
    await outbox.remember(channel, scope="channel")
    await outbox.queue("post", Recipient.channel(channel), kind=MessageKind.BUREAU, n=1)
    await outbox.queue("reply", Recipient.reply_to("post"), kind=MessageKind.BUREAU, n=2)
    await outbox.queue("edit", Recipient.update_of("post"), kind=MessageKind.BUREAU, n=3)

    await outbox.dispatcher().run_once()

    post, reply, edit = outbox.connector.received
    assert (post.method, post.conversation_id, post.text) == ("POST", channel, "nl 1")
    root = (await outbox.rows())[0].activity_id
    assert (reply.conversation_id, reply.text) == (f"{channel};messageid={root}", "nl 2")
    assert (edit.method, edit.conversation_id, edit.activity_id, edit.text) == (
        "PUT", channel, root, "nl 3",
    )  # fmt: skip


async def test_the_recipients_language_is_used(outbox: Outbox) -> None:
    await outbox.remember("anna", locale="en-US")
    await outbox.queue("k", Recipient.person("anna"), n=7)

    await outbox.dispatcher().run_once()

    assert [r.text for r in outbox.connector.received] == ["en 7"]


async def test_private_text_is_sealed_in_the_outbox_and_sent_in_plain_text(
    outbox: Outbox,
) -> None:
    await outbox.remember("anna")
    await outbox.queue_private("reply:1", Recipient.person("anna"), text="geheim verhaal")
    assert all("geheim" not in (row.data or "") for row in await outbox.rows())

    await outbox.dispatcher().run_once()

    assert [r.text for r in outbox.connector.received] == ["nl said geheim verhaal"]


async def test_private_text_no_key_opens_fails_the_message_without_sending(
    outbox: Outbox,
) -> None:
    await outbox.remember("anna")
    await outbox.queue_private("reply:1", Recipient.person("anna"), text="geheim")
    outbox.cipher = TextCipher([generate_key()])  # the key it was sealed with is gone

    await outbox.dispatcher().run_once()

    assert outbox.connector.received == []
    [row] = await outbox.rows()
    assert (row.state, row.reason) == ("failed", "private data unreadable")


async def test_failing_rounds_are_logged_once_a_minute_and_the_recovery_once(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = outbox.dispatcher(replace(FAST, poll_seconds=0))
    rounds = 0

    async def database_down_for_125_rounds() -> int:
        nonlocal rounds
        rounds += 1
        if rounds <= 125:
            raise ConnectionRefusedError(111, "Connect call failed")
        await dispatcher.stop()
        return 0

    monkeypatch.setattr(dispatcher, "run_once", database_down_for_125_rounds)
    caplog.set_level(logging.INFO, logger="bot.dispatcher")
    await dispatcher.run()

    assert [r.getMessage() for r in caplog.records if "dispatch" in r.getMessage()] == [
        "outbox: dispatch round failed (1 in a row); trying again",
        "outbox: dispatch round failed (61 in a row); trying again",
        "outbox: dispatch round failed (121 in a row); trying again",
        "outbox: dispatch works again after 125 failed rounds",
    ]
