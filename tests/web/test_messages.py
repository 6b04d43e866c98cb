"""Teams-shaped activities posted to /api/messages; assertions on what the connector received."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.local_connector import LocalConnector
from tests.web.conftest import RunningBot, start_bot

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def cards(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for m in messages
        for a in m.get("attachments") or []
        if a["contentType"] == ADAPTIVE_CARD
    ]


def card_texts(card: dict[str, Any]) -> str:
    return " ".join(e.get("text", "") for e in card["body"] if e["type"] == "TextBlock")


async def count_rows(database_url: str, table: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            )
    finally:
        await engine.dispose()


async def test_install_in_personal_chat_sends_welcome_and_menu(running_bot: RunningBot) -> None:
    status, messages = await running_bot.send(running_bot.user().install())
    assert status in (200, 201)
    welcome, menu = cards(messages)
    assert "Welkom bij Wegwijzer I&D" in card_texts(welcome)
    rows = [e["actions"] for e in menu["body"] if e["type"] == "ActionSet"] + [menu["actions"]]
    assert [b["data"]["action"] for row in rows for b in row] == [
        "finder",
        "help_request",
        "wethouder",
        "coaching",
        "my_sessions",
        "my_help_requests",
        "my_data",
        "help",
    ]


async def test_replies_go_to_the_conversation_on_the_service_url(running_bot: RunningBot) -> None:
    user = running_bot.user()
    activity = user.says("menu")
    await running_bot.send(activity)
    method, path, _ = running_bot.connector.requests[-1]
    assert method == "POST"
    assert path == f"/v3/conversations/{user.conversation_id}/activities/{activity['id']}"
    assert running_bot.connector.received[-1]["replyToId"] == activity["id"]


async def test_english_locale_gets_the_welcome_in_english(running_bot: RunningBot) -> None:
    _, messages = await running_bot.send(running_bot.user(locale="en-US").install())
    assert "Welcome to Wegwijzer I&D" in card_texts(cards(messages)[0])


@pytest.mark.parametrize("word", ["menu", "help", "hulp", "Hulp!", " MENU "])
async def test_typing_a_menu_word_shows_the_menu(running_bot: RunningBot, word: str) -> None:
    _, messages = await running_bot.send(running_bot.user().says(word))
    (menu,) = cards(messages)
    assert card_texts(menu).startswith("Waar kan ik je mee helpen?")


async def test_the_pilots_menu_entry_shows_the_pilot_and_how_to_join(
    running_bot: RunningBot,
) -> None:
    _, messages = await running_bot.send(running_bot.user().presses({"action": "coaching"}))
    (card,) = cards(messages)
    said = json.dumps(card, ensure_ascii=False)
    assert "Pilot voor leidinggevenden met een vraag of dilemma" in card_texts(card)
    assert "Aanmelden via deze bot kan nog niet" in said  # and how: at the Bureau
    assert '"action": "apply"' in said


async def test_every_menu_entry_leads_to_a_flow_with_a_next_step(running_bot: RunningBot) -> None:
    """No menu button is a dead end or a problem card: each answers, with a button to go on."""
    user = running_bot.user()
    _, shown = await running_bot.send(user.says("menu"))
    (menu,) = cards(shown)
    rows = [e["actions"] for e in menu["body"] if e["type"] == "ActionSet"] + [menu["actions"]]
    for (button,) in rows:
        _, messages = await running_bot.send(user.presses(button["data"]))
        answers = cards(messages)
        said = " ".join(
            [card_texts(card) for card in answers] + [m.get("text") or "" for m in messages]
        )
        assert answers, button["title"]
        for problem in ("Die knop werkt niet meer", "Dat mag je hier niet doen", "iets mis"):
            assert problem not in said, button["title"]
        assert any(json.dumps(card).count('"Action.') for card in answers), button["title"]
        await running_bot.send(user.says("stop"))  # leave a flow the button started


async def test_an_unknown_button_gets_an_answer_and_the_menu(running_bot: RunningBot) -> None:
    _, messages = await running_bot.send(running_bot.user().presses({"action": "no-such"}))
    (card,) = cards(messages)
    assert "Ik ken deze knop niet (meer)" in card_texts(card)
    assert [a["data"] for a in card["actions"]] == [{"action": "menu"}]


async def test_another_tenant_gets_no_reply_and_changes_nothing(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = running_bot.user()
    user.tenant_id = "other-tenant"
    with caplog.at_level(logging.WARNING):
        status, messages = await running_bot.send(user.says("mijn geheime vraag"))
    assert status in (200, 201)
    assert messages == []
    assert await count_rows(running_bot.database_url, "conversation_references") == 0
    assert await count_rows(running_bot.database_url, "bot_state") == 0
    assert "tenant not allowed" in caplog.text
    assert "geheime" not in caplog.text


async def test_another_channel_gets_no_reply(running_bot: RunningBot) -> None:
    _, messages = await running_bot.send(
        running_bot.user().activity(channelId="slack", text="menu")
    )
    assert messages == []


async def test_conversation_reference_is_kept_by_aad_object_id_without_names(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    activity = user.says("menu")
    activity["from"]["name"] = "Jan Jansen"
    await running_bot.send(activity)
    await running_bot.send(user.says("hulp"))
    engine = create_async_engine(running_bot.database_url)
    try:
        async with engine.connect() as connection:
            rows = (
                (await connection.execute(text("SELECT * FROM conversation_references")))
                .mappings()
                .all()
            )
    finally:
        await engine.dispose()
    assert len(rows) == 1
    row = dict(rows[0])
    assert row["owner"] == user.aad_object_id
    assert row["service_url"] == running_bot.connector.url
    assert "Jan Jansen" not in str(row)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b"[" * 60_000 + b"]" * 60_000, "application/json", 400),  # deeper than json recurses
        (b"\xff\xfe{}", "application/json", 400),
        (b"type=message", "application/x-www-form-urlencoded", 415),
    ],
    ids=["not-json", "a-list", "no-type", "nested-too-deep", "not-utf8", "a-form"],
)
async def test_malformed_requests_are_refused_without_a_stack_trace(
    running_bot: RunningBot, body: bytes, content_type: str, status: int
) -> None:
    async with running_bot.http.post(
        running_bot.url + "/api/messages", data=body, headers={"Content-Type": content_type}
    ) as response:
        assert response.status == status
        assert "Traceback" not in await response.text()
    assert running_bot.connector.received == []


async def test_health_and_readiness(running_bot: RunningBot) -> None:
    async with running_bot.http.get(running_bot.url + "/healthz") as response:
        assert response.status == 200
    async with running_bot.http.get(running_bot.url + "/readyz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Any) -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.app import APP_KEY, _readyz, create_app
    from bot.settings import Settings

    app = create_app(
        Settings(_env_file=None, DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:9/none")  # type: ignore[call-arg]
    )
    try:
        response = await _readyz(make_mocked_request("GET", "/readyz", app=app))
        assert response.status == 503
    finally:
        await app[APP_KEY].engine.dispose()


async def test_a_failing_connector_gets_the_user_a_dutch_apology_and_no_text_in_logs(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    failures = iter([500])

    def fail_first_reply(_: object) -> int | None:
        return next(failures, None)

    async for running in start_bot(tmp_path, LocalConnector(fail_with=fail_first_reply)):
        with caplog.at_level(logging.INFO):
            status, messages = await running.send(running.user().says("menu, mijn verhaal"))
        assert status in (200, 201)
        assert [m["text"] for m in messages] == [
            messages[0]["text"]
        ] and "niets verloren" in messages[0]["text"]
        assert "turn failed" in caplog.text
        assert "mijn verhaal" not in caplog.text


async def test_deeply_nested_fields_in_a_real_activity_get_a_calm_answer(
    running_bot: RunningBot,
) -> None:
    nested: Any = "bodem"
    for _ in range(900):  # json still reads this; anything walking it recursively might not
        nested = [nested]
    activity = running_bot.user().says("menu")
    activity["channelData"] = {**activity.get("channelData", {}), "deep": nested}
    activity["conversation"] = {**activity["conversation"], "deep": nested}
    activity["value"] = {"deep": nested}
    status, messages = await running_bot.send(activity)
    assert status in (200, 201, 400)
    assert all("Traceback" not in str(message) for message in messages)


async def test_a_command_after_the_bots_mention_in_a_channel_is_understood(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    activity = user.says("<at>Wegwijzer I&amp;D</at> menu")
    activity["conversation"]["conversationType"] = "channel"
    activity["entities"] = [
        {
            "type": "mention",
            "text": "<at>Wegwijzer I&amp;D</at>",
            "mentioned": {"id": activity["recipient"]["id"], "name": "Wegwijzer I&D"},
        }
    ]
    _, messages = await running_bot.send(activity)
    assert cards(messages)[0]["body"][0]["text"] == "Waar kan ik je mee helpen?"
