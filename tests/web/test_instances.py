"""Two `wegwijzer serve` processes on one PostgreSQL: a conversation moves between them freely.

Nothing but the database is shared: each instance is its own process with its own pools, as
behind a load balancer. Every turn of the finder lands on the other instance than the last.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from content.templates import load_templates
from tests.serving import serve, wait_ready
from tests.web.conftest import TENANT
from tests.web.test_messages import cards
from tests.web.test_offers import buttons, texts


async def test_a_conversation_moves_between_two_instances_turn_by_turn_keeping_its_state(
    postgres_url: str, tmp_path: Path
) -> None:
    templates = load_templates()
    connector = LocalConnector()
    await connector.start()
    settings = {"DATABASE_URL": postgres_url, "ALLOWED_TENANT_IDS": TENANT, "LOG_LEVEL": "WARNING"}
    try:
        async with (
            serve(tmp_path, **settings) as (url_a, _),
            serve(tmp_path, **settings) as (url_b, _),
            aiohttp.ClientSession() as http,
        ):
            await asyncio.gather(wait_ready(http, url_a), wait_ready(http, url_b))
            user = TeamsUser(url_a + "/api/messages", connector.url, TENANT)
            instances = [url_a, url_b]
            seen: list[str] = []

            async def turn(activity: dict[str, Any]) -> dict[str, Any]:
                """Send on the instance after the last one; return the one card it answered."""
                url = instances[len(seen) % 2]
                seen.append(url)
                before = len(connector.messages())
                async with http.post(url + "/api/messages", json=activity) as response:
                    assert response.status in (200, 201)
                (card,) = cards(connector.messages()[before:])
                return card

            menu = await turn(user.says("menu"))
            (finder_button,) = [b for b in buttons(menu) if b["data"].get("action") == "finder"]
            assert finder_button["title"] == templates.text("menu_finder", "nl")
            card = await turn(user.presses(finder_button["data"]))
            for step in range(1, 5):
                assert templates.text("finder_step", "nl", step=step, steps=4) in texts(card)
                (choices,) = [e for e in card["body"] if e["type"] == "Input.ChoiceSet"]
                next_button = buttons(card)[0]
                answer = {**next_button["data"], choices["id"]: choices["choices"][0]["value"]}
                card = await turn(user.presses(answer))
            assert texts(card)[0] == templates.text("finder_result_title", "nl")
    finally:
        await connector.stop()
    # Six turns, alternating: A, B, A, B, A, B.
    assert seen == [url_a, url_b] * 3
