"""Text a person typed shows as typed in Microsoft's renderer: no Markdown in it takes effect.

The gallery's samples named "typed Markdown, shown as typed" put a link, bold, a heading, a
list, a numbered item, an `<at>` mention, underscores, Adaptive Card date and time functions and
bare addresses into every place of a card that shows what a requester, a Bureau member or a
manager typed (bot/*_samples.py). The invisible breaks the literal filter puts into the functions
and addresses are left out of what a reader sees.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from bot.app import APP_KEY
from bot.bureau_samples import TYPED_MARKDOWN, TYPED_NAME
from bot.devchat import personas
from content.templates import INVISIBLE_BREAK
from services.outbox import MessageKind, Recipient, queue_message
from storage.db import create_session_factory
from storage.uow import UnitOfWork
from tests.devchat.conftest import Browser, DevChat
from tests.devchat.test_e2e_chat import assert_clean, open_chat, transcript

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TYPED = "typed Markdown, shown as typed"


async def test_typed_markdown_is_drawn_as_the_characters_typed(browser: Browser) -> None:
    page = browser.page
    await page.goto(f"{browser.base_url}/dev/chat/gallery")
    await page.wait_for_function("() => window.gallery && window.gallery.done")
    results: list[dict[str, Any]] = await page.evaluate("() => window.gallery.results")

    typed = [r for r in results if r["sample"] == TYPED]
    assert {r["template"] for r in typed} == {
        "help_request_channel",
        "help_request_notice",
        "help_request_thread_answer",
        "my_help_request",
        "session_bureau_lists",
    }
    for result in typed:
        where = f"{result['template']} ({result['lang']})"
        assert result["problems"] == [], where
        shown = result["text"].replace(INVISIBLE_BREAK, "")
        for line in TYPED_MARKDOWN.splitlines():
            assert line in shown, (where, line)
        if result["template"] in ("help_request_channel", "session_bureau_lists"):
            assert TYPED_NAME in shown, where
        # The session lists' remarks are a list of our own making; nothing else is formatted.
        ours = ["ul", "li"] if result["template"] == "session_bureau_lists" else []
        assert result["markdown"] == ours, where


async def test_a_thread_post_with_typed_markdown_reads_as_typed_on_the_page(
    browser: Browser, e2e_chat: DevChat
) -> None:
    """A Bureau reply in the thread is a message's text: escaped, then shown as typed."""
    await open_chat(browser, "bureau")
    people = {p.key: p for p in personas(e2e_chat.app[APP_KEY].settings)}
    session_factory = create_session_factory(e2e_chat.app[APP_KEY].engine)
    async with UnitOfWork(session_factory) as uow:
        await queue_message(
            uow=uow,
            to=Recipient.channel(people["bureau"].channel_id or ""),
            kind=MessageKind.URGENT,
            template="help_request_thread_reply",
            data={"request": 1, "name": "Fatima", "text": "Zie [link](https://x) en **vet**"},
            key="devchat:typed",
        )
        await uow.commit()

    said = transcript(browser, "bureau").locator(".message.bot .text").last
    await expect(said).to_contain_text("Fatima antwoordde de aanvrager")
    assert (await said.inner_text()).replace(INVISIBLE_BREAK, "") == (
        "Fatima antwoordde de aanvrager: Zie [link](https://x) en **vet**"
    )
    await assert_clean(browser)
