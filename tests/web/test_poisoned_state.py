"""Card data and stored state shaped by an attacker: refused, never run, never a stuck chat.

Both happen in a group chat with two members, who share one conversation state.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from tests.web.conftest import RunningBot, start_bot
from tests.web.test_messages import card_texts, cards

CANARY = "tests.web.import_canary"


def group_chat(bot: RunningBot) -> tuple[TeamsUser, TeamsUser]:
    conversation = f"19:{uuid.uuid4().hex}@thread.v2"
    return bot.user(conversation_id=conversation), bot.user(conversation_id=conversation)


def in_group(user: TeamsUser, **fields: Any) -> dict[str, Any]:
    activity = user.activity(**fields)
    activity["conversation"]["conversationType"] = "groupChat"
    return activity


def says(user: TeamsUser, words: str) -> dict[str, Any]:
    return in_group(user, text=words, textFormat="plain")


async def shows_the_menu(bot: RunningBot, user: TeamsUser, words: str = "menu") -> list[Any]:
    status, messages = await bot.send(says(user, words))
    assert status in (200, 201)
    assert not any("iets mis" in (m.get("text") or "") for m in messages), messages
    assert any(
        card_texts(card).startswith("Waar kan ik je mee helpen?") for card in cards(messages)
    )
    return messages


async def test_a_poisoned_card_submit_leaves_both_members_of_a_group_chat_able_to_talk(
    running_bot: RunningBot,
) -> None:
    first, second = group_chat(running_bot)
    status, messages = await running_bot.send(
        in_group(first, value={"action": "finder", "x": {"py/b64": "a"}})
    )
    assert status in (200, 201)
    assert "niet lezen" in messages[0]["text"]
    await shows_the_menu(running_bot, first)
    await shows_the_menu(running_bot, second)
    _, stopped = await running_bot.send(says(second, "stop"))
    assert "stop" in stopped[0]["text"] and "iets mis" not in stopped[0]["text"]


async def test_a_flow_keeps_only_the_fields_it_declares(running_bot: RunningBot) -> None:
    first, _ = group_chat(running_bot)
    await running_bot.send(in_group(first, value={"action": "finder", "extra": {"a": [1, 2]}}))
    stored = await state_rows(running_bot.database_url)
    assert stored and all("extra" not in data for data in stored.values())


async def state_rows(database_url: str) -> dict[str, str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT key, data FROM bot_state"))).all()
    finally:
        await engine.dispose()
    return {row.key: row.data for row in rows}


async def store_state(database_url: str, key: str, document: object) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO bot_state (key, data, etag, updated_at) "
                    "VALUES (:key, :data, 'planted', CURRENT_TIMESTAMP)"
                ),
                {"key": key, "data": json.dumps(document)},
            )
    finally:
        await engine.dispose()


def payloads(marker: Path) -> dict[str, object]:
    touch = f"touch {marker}"
    return {
        "reduce": {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [touch]}]},
        "function": {"py/function": "os.system"},
        # jsonpickle splits module and expression at the one "/": the path's are spelled "|".
        "repr": {"py/repr": f"os/os.system({touch.replace('/', '|')!r}.replace('|', chr(47)))"},
        "object-initargs": {
            "py/object": "subprocess.Popen",
            "py/initargs": {"py/tuple": [["touch", str(marker)]]},
        },
        "object-import": {"py/object": f"{CANARY}.Canary"},
        "object-off-the-list": {"py/object": "subprocess.Popen"},
        "b64": {"py/b64": "a"},
    }


@pytest.mark.parametrize("payload", list(payloads(Path("x"))))
async def test_stored_state_is_never_run_and_an_unreadable_one_starts_over(
    running_bot: RunningBot,
    tmp_path: Path,
    payload: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In the process's mode: `make test` has the speed-ups on, `make test-stock` off."""
    await poisoned_state_starts_over(running_bot, tmp_path, payload, caplog)


async def test_with_the_speed_ups_off_an_unreadable_state_also_says_it_started_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The stock conversation state (SPEEDUPS=false) in whichever mode this process runs; its
    Bot Framework internals stay as the process set them, only the state class differs."""
    async for stock_bot in start_bot(tmp_path, LocalConnector(), SPEEDUPS=False):
        await poisoned_state_starts_over(stock_bot, tmp_path, "reduce", caplog)


async def poisoned_state_starts_over(
    running_bot: RunningBot, tmp_path: Path, payload: str, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "ran"
    first, second = group_chat(running_bot)
    key = f"msteams/conversations/{first.conversation_id}"
    poison = payloads(marker)[payload]
    await store_state(running_bot.database_url, key, {"DialogState": poison})
    with caplog.at_level(logging.WARNING):
        messages = await shows_the_menu(running_bot, first)
    assert "opnieuw" in messages[0]["text"], "the user is told the conversation started over"
    assert not marker.exists(), "stored state ran a command"
    assert CANARY not in sys.modules, "stored state imported a module"
    assert key in caplog.text and "os.system" not in caplog.text and "py/" not in caplog.text
    later = await shows_the_menu(running_bot, second)
    assert "opnieuw" not in (later[0].get("text") or "")
