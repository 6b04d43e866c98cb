"""A finished turn is freed by reference counting: it leaves no cycle for the garbage collector.

Under load the collector's passes were a tenth of the event loop's time, most of it spent finding
whole turns (turn context, activity, dialog stack, cards) kept alive by a few small cycles.
"""

from __future__ import annotations

import gc

import pytest

from bench.scenario import STEPS
from bot.app import APP_KEY
from tests.web.conftest import RunningBot

OURS_AND_BOT_FRAMEWORK = ("botbuilder", "botframework", "bot.", "dialogs.", "storage.", "content.")


async def test_a_walk_through_the_finder_leaves_no_reference_cycles(
    running_bot: RunningBot,
) -> None:
    # What `wegwijzer serve`'s rare collections (bot.cli.tune_garbage_collector) rely on.
    if not running_bot.app[APP_KEY].settings.SPEEDUPS:
        pytest.skip("the stock turn context and dialog state managers do leave cycles")
    user = running_bot.user()
    status, _ = await running_bot.send(user.install())  # first use: caches fill, not garbage
    assert status in (200, 201)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds stays in gc.garbage
    try:
        for step in STEPS:
            status, messages = await running_bot.send(user.activity(**step.fields))
            assert status in (200, 201) and messages, step.name
        gc.collect()
        cyclic = sorted(
            {
                f"{type(item).__module__}.{type(item).__qualname__}"
                for item in gc.garbage
                if type(item).__module__.startswith(OURS_AND_BOT_FRAMEWORK)
            }
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cyclic == []
