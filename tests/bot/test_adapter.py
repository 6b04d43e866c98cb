"""The adapter's turn context runs send handlers and copies what it sends as Bot Framework does."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ConversationAccount
from msrest.serialization import Model

from bot.adapter import AcyclicTurnContext, _FieldCopied
from bot.wire import to_json
from tests.bot.test_wire import all_cards


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


def _mutable_parts(value: Any) -> Iterator[object]:
    """Every dict, list and model inside `value` (what a copy must not share)."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _mutable_parts(item)
    elif isinstance(value, list):
        yield value
        for item in value:
            yield from _mutable_parts(item)
    elif isinstance(value, Model):
        yield value
        yield from _mutable_parts(vars(value))


def test_a_sent_activity_is_copied_as_deepcopy_copies_it() -> None:
    sent = [*all_cards(), Activity(type="message", value={"a": [1, {"b": None}]}, entities=[])]
    for activity in sent:
        ours = copy.deepcopy(_FieldCopied.view_of(activity))
        stock = copy.deepcopy(activity)
        assert isinstance(ours, Activity)
        assert to_json(ours) == to_json(stock) == activity.serialize()
        shared = {id(part) for part in _mutable_parts(activity)}
        assert not any(id(part) in shared for part in _mutable_parts(ours))


async def test_sending_leaves_the_callers_activity_as_it_was() -> None:
    incoming = Activity(
        type="message", text="hallo", conversation=ConversationAccount(id="a:1"), service_url="x"
    )
    context = AcyclicTurnContext(TestAdapter(), incoming)
    card = all_cards()[1]
    before = card.serialize()
    await context.send_activity(card)
    (sent,) = context.adapter.activity_buffer
    assert card.serialize() == before  # not addressed: the copy was
    assert sent.conversation is not None and card.conversation is None
    assert to_json(sent)["attachments"] == before["attachments"]
