"""`wegwijzer outbox status | run --once | retry ID`: counts and reasons, never content."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from bot import outbox_cli
from bot.settings import Settings
from content.templates import load_templates
from services.outbox import MessageKind, Recipient, queue_message
from storage.uow import UnitOfWork
from tests.bot.outbox_fixtures import Outbox, sqlite_outbox


@pytest.fixture
async def outbox(sqlite_url: str) -> AsyncIterator[Outbox]:
    async with sqlite_outbox(sqlite_url) as box:
        yield box


def settings(url: str) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=url)  # type: ignore[call-arg]


async def test_status_shows_counts_and_reasons_but_no_content_and_retry_puts_one_back(
    outbox: Outbox, sqlite_url: str
) -> None:
    await outbox.remember("anna")
    await outbox.queue("secret-key", Recipient.person("anna"), n=424242)
    outbox.connector.by_conversation["a:anna"].append(400)
    await outbox.dispatcher().run_once()

    out = io.StringIO()
    assert await outbox_cli.status(settings(sqlite_url), out) == 0
    shown = out.getvalue()
    assert "0 pending, 0 sent, 1 failed, 0 unreachable, 0 skipped" in shown
    assert "http 400  1" in shown
    assert "latest, newest first ('wegwijzer outbox retry ID' queues one again):" in shown
    assert "         1  failed       http 400\n" in shown
    assert not any(secret in shown for secret in ("424242", "anna", "secret-key"))

    assert await outbox_cli.retry(settings(sqlite_url), 1, io.StringIO()) == 0
    assert await outbox_cli.retry(settings(sqlite_url), 1, io.StringIO()) == 1  # pending now
    [row] = await outbox.rows()
    assert (row.state, row.attempts) == ("pending", 0)


async def test_run_once_sends_what_is_due(outbox: Outbox, sqlite_url: str) -> None:
    await outbox.remember("anna")
    async with UnitOfWork(outbox.session_factory) as uow:
        await queue_message(
            uow=uow, to=Recipient.person("anna"), kind=MessageKind.URGENT, template="stopped",
            data={}, key="k",
        )  # fmt: skip
        await uow.commit()
    out = io.StringIO()

    assert await outbox_cli.run_once(settings(sqlite_url), out) == 0

    assert out.getvalue() == "handled 1 message(s): 1 sent\n"
    assert [r.text for r in outbox.connector.received] == [load_templates().text("stopped", "nl")]
