"""The benchmark's traffic is traffic the bot understands: every step gets its card."""

from __future__ import annotations

import json
from pathlib import Path

from bench.scenario import STEPS, TENANT, fill, template
from bot.local_connector import LocalConnector
from tests.web.conftest import start_bot


async def test_every_step_of_the_benchmark_scenario_gets_the_card_it_should(
    tmp_path: Path,
) -> None:
    async for running in start_bot(tmp_path, LocalConnector(), ALLOWED_TENANT_IDS=[TENANT]):
        headings = []
        for number, step in enumerate(STEPS):
            body = fill(
                template(running.connector.url, step),
                activity_id=f"a{number}",
                aad="00000000-0000-0000-0000-0000000000aa",
                conversation="a:bench-user",
            )
            status, messages = await running.send(json.loads(body))
            assert status in (200, 201), step.name
            assert len(messages) == 1 and messages[0].get("attachments"), step.name
            card = messages[0]["attachments"][0]["content"]
            headings.append(card["body"][0].get("text", ""))
        assert headings[0] == "Waar kan ik je mee helpen?"
        assert headings[1:5] == [f"Vraag {n} van 4" for n in range(1, 5)]
        assert headings[5] == "Dit past bij jou"
        assert headings[6] == "Dit vond ik bij je vraag"
