import asyncio

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import ActivityTypes

from bot.typing import ShowTyping


async def run_turn(seconds: float) -> list[str]:
    async def logic(context: TurnContext) -> None:
        await asyncio.sleep(seconds)
        await context.send_activity("klaar")

    adapter = TestAdapter(logic)
    adapter.use(ShowTyping(delay=0.05, period=0.1))
    await adapter.send("hallo")
    return [activity.type for activity in adapter.activity_buffer]


async def test_a_slow_turn_shows_typing_before_the_answer() -> None:
    kinds = await run_turn(0.3)
    assert kinds[0] == ActivityTypes.typing
    assert kinds.count(ActivityTypes.typing) >= 2
    assert kinds[-1] == ActivityTypes.message


async def test_a_fast_turn_sends_only_its_answer() -> None:
    assert await run_turn(0) == [ActivityTypes.message]


async def test_typing_stops_when_the_turn_ends() -> None:
    await run_turn(0.08)
    before = len(asyncio.all_tasks())
    await asyncio.sleep(0.25)
    assert len(asyncio.all_tasks()) <= before
