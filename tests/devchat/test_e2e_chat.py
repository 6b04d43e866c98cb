"""The dev chat in headless Chromium: a person walks the bot's flows and sees its cards.

Texts are looked up in content/ rather than written here, so rewording a button keeps the walk.
Every flow added later adds its walk here. Screenshots land in test-artifacts/devchat/.
"""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters
from playwright.async_api import Locator, expect

from bot.app import APP_KEY
from bot.devchat import CONNECTOR_PATH, personas
from bot.settings import Settings
from content.templates import load_templates
from tests.devchat.conftest import Browser, DevChat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TEMPLATES = load_templates()


def t(key: str, lang: str = "nl", **values: Any) -> str:
    return TEMPLATES.text(key, lang, **values)  # type: ignore[arg-type]


async def open_chat(browser: Browser, who: str = "manager") -> None:
    await browser.page.goto(f"{browser.base_url}/dev/chat?as={who}")
    await browser.page.wait_for_function("() => window.devchat && window.devchat.ready")


def transcript(browser: Browser, who: str = "manager") -> Locator:
    return browser.page.locator(f"#transcript-{who}")


def last_card(browser: Browser, who: str = "manager") -> Locator:
    return transcript(browser, who).locator(".message.bot .ac-adaptiveCard").last


async def assert_clean(browser: Browser) -> None:
    """No card the renderer complained about, no script error, nothing from outside."""
    assert await browser.page.evaluate("() => window.devchat.errors") == []
    assert await browser.page.locator(".render-error").count() == 0
    assert browser.errors == []
    assert browser.outside == []


async def test_a_manager_walks_welcome_menu_and_finder_to_a_recommendation(
    browser: Browser,
) -> None:
    page = browser.page
    await open_chat(browser)
    chat = transcript(browser)
    await expect(chat).to_contain_text(t("welcome_title"))
    await expect(last_card(browser)).to_contain_text(t("menu_title"))
    await browser.screenshot("01-welcome-and-menu")

    await last_card(browser).get_by_role("button", name=t("menu_finder")).click()
    question = last_card(browser)
    await expect(question).to_contain_text(t("finder_role_question"))
    await question.get_by_label(t("role_teammanager"), exact=True).check()
    await browser.screenshot("02-finder-role")
    await question.get_by_role("button", name=t("finder_next")).click()

    for key in ("finder_theme_question", "finder_need_question", "finder_format_question"):
        question = last_card(browser)
        await expect(question).to_contain_text(t(key))
        await question.get_by_role("button", name=t("finder_skip")).click()

    result = last_card(browser)
    await expect(result).to_contain_text(t("finder_result_title"))
    await expect(result).to_contain_text(t("finder_why", reasons="")[:10])
    await result.scroll_into_view_if_needed()
    await browser.screenshot("03-recommendation")

    # Typing works too: `menu` brings the menu back, as a new card under the others.
    await page.get_by_label("Bericht").fill("menu")
    await page.get_by_role("button", name="Verstuur").click()
    await expect(chat.locator(".message.user").last).to_have_text("menu")
    await expect(last_card(browser)).to_contain_text(t("menu_title"))
    await assert_clean(browser)


async def test_a_director_in_english_gets_english_cards(browser: Browser) -> None:
    await open_chat(browser, "director")
    await browser.page.get_by_label("Taal van Teams").select_option("en-US")
    await browser.page.get_by_label("Bericht").fill("menu")
    await browser.page.get_by_role("button", name="Verstuur").click()
    await expect(last_card(browser, "director")).to_contain_text(t("menu_title", "en"))
    await expect(transcript(browser, "manager")).to_be_hidden()
    await browser.screenshot("04-director-english")
    await assert_clean(browser)


async def test_proactive_messages_and_updates_land_in_their_own_conversation(
    browser: Browser, e2e_chat: DevChat
) -> None:
    """Sent the way the bot sends outside a turn: the adapter and its Bot Connector client."""
    await open_chat(browser, "trekker")
    await expect(last_card(browser, "trekker")).to_contain_text(t("menu_title"))
    wegwijzer = e2e_chat.app[APP_KEY]
    service_url = e2e_chat.url + CONNECTOR_PATH + "/"
    people = {p.key: p for p in personas(wegwijzer.settings)}
    manager, bureau = people["manager"], people["bureau"]
    first = TEMPLATES.card("no_answer", "nl")
    second = TEMPLATES.card("menu", "nl")

    async def send_then_update(turn_context: TurnContext) -> None:
        sent = await turn_context.send_activity(MessageFactory.attachment(_card(first)))
        update = MessageFactory.attachment(_card(second))
        update.id = sent.id
        await turn_context.update_activity(update)

    # A 1:1 message as a proactive sender starts one: Teams answers with the personal chat.
    await wegwijzer.adapter.create_conversation(
        "",
        send_then_update,
        ConversationParameters(
            members=[ChannelAccount(id=manager.user_id, aad_object_id=manager.aad_object_id)],
            channel_data={"tenant": {"id": "city-tenant"}},
            tenant_id="city-tenant",
        ),
        "msteams",
        service_url,
    )

    async def post_in_channel(turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.attachment(_card(first)))

    await wegwijzer.adapter.create_conversation(
        "",
        post_in_channel,
        ConversationParameters(
            is_group=True,
            channel_data={"channel": {"id": bureau.channel_id}, "tenant": {"id": "city-tenant"}},
            tenant_id="city-tenant",
        ),
        "msteams",
        service_url,
    )

    # Neither shows in the trekker's chat; each is in its own conversation, the update in place.
    await browser.page.locator("#person-manager").click()
    manager_chat = transcript(browser, "manager")
    await expect(manager_chat.locator(".message.bot").last).to_contain_text(t("menu_title"))
    updated = manager_chat.locator(".message.bot.updated")
    await expect(updated).to_have_count(1)
    await expect(updated).not_to_contain_text(t("no_answer_title"))
    await browser.page.locator("#person-bureau").click()
    channel = transcript(browser, "bureau")
    await expect(channel.locator(".message.bot")).to_have_count(1)
    await expect(channel).to_contain_text(t("no_answer_title"))
    await browser.screenshot("05-bureau-channel")
    await expect(transcript(browser, "trekker").locator(".message.bot")).to_have_count(2)
    await assert_clean(browser)


def _card(card: dict[str, Any]) -> Any:
    return CardFactory.adaptive_card(card)


async def test_an_execute_button_sends_teams_invoke_and_the_answer_replaces_the_card(
    browser: Browser, e2e_chat: DevChat
) -> None:
    """Action.Execute reaches the action router as Teams sends it; its card replaces the old."""
    await open_chat(browser)
    await expect(last_card(browser)).to_contain_text(t("menu_title"))
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "Claim", "wrap": True},
            {"type": "Input.Text", "id": "note", "label": "Notitie"},
        ],
        "actions": [
            {"type": "Action.Execute", "title": "Claim", "verb": "claim", "data": {"n": 1}}
        ],
    }
    path = CONNECTOR_PATH + "/v3/conversations/a:dev-chat-manager/activities"
    message = {"type": "message", "attachments": [_card(card).serialize()]}
    async with e2e_chat.http.post(e2e_chat.url + path, json=message) as response:
        card_id = (await response.json())["id"]
    posted: list[Any] = []

    async def record(route: Any) -> None:
        if route.request.url.endswith("/api/messages"):
            posted.append(route.request.post_data_json)
        await route.continue_()

    await browser.page.route("**/api/messages", record)
    execute = last_card(browser)
    await execute.get_by_label("Notitie").fill("voor mij")
    await execute.get_by_role("button", name="Claim").click()
    # The router knows no such verb: its answer, a card saying so, replaces the pressed card.
    await expect(execute).to_contain_text(t("action_unknown_title"))
    messages = transcript(browser).locator(".message.bot")
    await expect(messages.last).to_contain_text(t("action_unknown_title"))
    await expect(messages.last).not_to_contain_text("Notitie")
    assert len(posted) == 1
    invoke = posted[0]
    assert invoke["type"] == "invoke"
    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["replyToId"] == card_id
    assert invoke["value"]["action"]["verb"] == "claim"
    assert invoke["value"]["action"]["data"] == {"n": 1, "note": "voor mij"}
    assert invoke["conversation"]["id"] == "a:dev-chat-manager"


async def test_a_bureau_member_posts_in_the_channel_as_teams_does(browser: Browser) -> None:
    """A new channel post @mentions the bot and starts a thread; the answer lands in the channel."""
    await open_chat(browser, "bureau")
    posted: list[Any] = []

    async def record(route: Any) -> None:
        posted.append(route.request.post_data_json)
        await route.continue_()

    await browser.page.route("**/api/messages", record)
    await browser.page.get_by_label("Bericht").fill("menu")
    await browser.page.get_by_role("button", name="Verstuur").click()
    channel = transcript(browser, "bureau")
    await expect(channel.locator(".message.bot")).to_have_count(1)
    await expect(transcript(browser, "manager").locator(".message")).to_have_count(0)
    message = posted[-1]
    team = next(p for p in personas(Settings(_env_file=None)) if p.key == "bureau")  # type: ignore[call-arg]
    assert message["conversation"]["id"] == f"{team.conversation_id};messageid={message['id']}"
    assert message["conversation"]["conversationType"] == "channel"
    assert message["channelData"]["team"]["id"] == team.team_id
    assert message["text"].startswith("<at>") and message["text"].endswith(" menu")
    assert message["entities"][0]["mentioned"]["id"] == message["recipient"]["id"]
    await browser.screenshot("06-bureau-channel-post")
    await assert_clean(browser)


async def test_the_outbox_reaches_the_page_in_the_right_conversation_and_updates_in_place(
    browser: Browser, e2e_chat: DevChat
) -> None:
    """What a service queues, the app's dispatcher sends; the page shows it where it belongs."""
    from services.outbox import MessageKind, Recipient, queue_message
    from storage.db import create_session_factory
    from storage.uow import UnitOfWork

    await open_chat(browser, "manager")  # installing stores where each one can be reached
    await expect(last_card(browser)).to_contain_text(t("menu_title"))
    await browser.page.locator("#person-bureau").click()
    await browser.page.get_by_label("Bericht").fill("hallo")
    await browser.page.get_by_role("button", name="Verstuur").click()
    # The bot's @mention is dropped, so "hallo" is small talk: a greeting and the menu.
    await expect(transcript(browser, "bureau").locator(".message.bot")).to_have_count(2)
    await browser.page.locator("#person-trekker").click()  # looking at someone else
    people = {p.key: p for p in personas(e2e_chat.app[APP_KEY].settings)}
    queued = [
        (Recipient.person(people["manager"].aad_object_id), "no_answer", "devchat:1"),
        (Recipient.channel(people["bureau"].channel_id or ""), "menu", "devchat:2"),
        (Recipient.update_of("devchat:2"), "no_answer", "devchat:3"),
    ]
    session_factory = create_session_factory(e2e_chat.app[APP_KEY].engine)
    for to, template, key in queued:
        async with UnitOfWork(session_factory) as uow:
            await queue_message(
                uow=uow, to=to, kind=MessageKind.URGENT, template=template, data={}, key=key
            )
            await uow.commit()

    await browser.page.locator("#person-manager").click()
    await expect(last_card(browser, "manager")).to_contain_text(t("no_answer_title"))
    await browser.page.locator("#person-bureau").click()
    channel = transcript(browser, "bureau")
    await expect(channel.locator(".message.bot.updated")).to_contain_text(t("no_answer_title"))
    await expect(channel.locator(".message.bot")).to_have_count(3)  # the answers, and the post
    await browser.screenshot("07-outbox-in-the-bureau-channel")
    await assert_clean(browser)
