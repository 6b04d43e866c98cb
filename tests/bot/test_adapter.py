"""The adapter's turn context runs send handlers exactly as Bot Framework's own does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from bot.adapter import AcyclicTurnContext


async def _calls(kind: type[TurnContext], stop_at: int | None) -> list[str]:
    calls: list[str] = []

    def handler(number: int) -> Callable[..., Awaitable[None]]:
        async def handle(
            context: TurnContext, activities: list[Any], next_: Callable[[], Awaitable[None]]
        ) -> None:
            calls.append(f"before {number} ({len(activities)})")
            if number != stop_at:
                await next_()
            calls.append(f"after {number}")

        return handle

    context = kind(TestAdapter(), Activity(type="message", text="hallo"))
    for number in range(3):
        context.on_send_activities(handler(number))
    await context.send_activity("antwoord")
    return [*calls, f"sent {len(context.adapter.activity_buffer)}"]


@pytest.mark.parametrize("stop_at", [None, 1])
async def test_send_handlers_run_in_the_stock_order(stop_at: int | None) -> None:
    assert await _calls(AcyclicTurnContext, stop_at) == await _calls(TurnContext, stop_at)
    assert (await _calls(AcyclicTurnContext, stop_at))[:2] == ["before 0 (1)", "before 1 (1)"]
