"""The CloudAdapter, fed with the activity the route already parsed.

With the speed-ups on (bot/speedups.py) the activity is read by `bot.wire` instead of msrest's
generic deserialiser, and each turn context is an `AcyclicTurnContext`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, DeliveryModes
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]
from msrest.serialization import Model

from bot.errors import describe
from bot.wire import activity_from_json

log = logging.getLogger(__name__)

_Handler = Callable[[TurnContext, Any, Callable[[], Awaitable[None]]], Awaitable[None]]


class WegwijzerAdapter(CloudAdapter):
    """`CloudAdapter.process` without parsing the body twice."""

    def __init__(self, *args: Any, speedups: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._speedups = speedups

    async def process_body(self, body: dict[str, Any], auth_header: str, bot: Bot) -> web.Response:
        try:
            activity = activity_from_json(body) if self._speedups else Activity().deserialize(body)
        except (DeserializationError, TypeError, ValueError):
            return web.Response(status=400, text="expected a Bot Framework activity")
        if not activity.type:
            return web.Response(status=400, text="expected a Bot Framework activity")
        if activity.delivery_mode == DeliveryModes.expect_replies:
            # Replies in the HTTP response: Teams never asks for it, and the bot does not do it.
            return web.Response(status=400, text="deliveryMode expectReplies is not supported")
        try:
            invoke_response = await self.process_activity(auth_header, activity, bot.on_turn)
            if not invoke_response:
                return web.Response(status=201)
            body = invoke_response.body
            # The action router answers with plain JSON (bot/actions.py); others with models.
            data = body if isinstance(body, dict) else serializer_helper(body)
            return web.json_response(data=data, status=invoke_response.status)
        except PermissionError:
            return web.Response(status=401)
        except Exception as error:
            # Never a traceback: its messages may hold what the caller sent.
            log.error("request failed: %s", describe(error))
            return web.Response(status=500)

    def _create_turn_context(self, *args: Any, **kwargs: Any) -> TurnContext:
        context = super()._create_turn_context(*args, **kwargs)
        if self._speedups:
            # The same object with the same turn state; only how it calls send handlers differs.
            context.__class__ = AcyclicTurnContext
        return context


class AcyclicTurnContext(TurnContext):  # type: ignore[misc,unused-ignore]
    """A `TurnContext` that leaves no reference cycle behind, and copies what it sends cheaply.

    The stock `_emit` calls the send handlers through a closure that refers to itself, so every
    turn that sent something left a cycle holding the whole turn (activity, state, cards) for the
    garbage collector to find. Here each step refers only to the next: reference counting frees
    the turn as soon as it ends. The handlers run in the same order, as before.

    The stock `send_activities` deep-copies every activity before addressing it, so that sending
    never changes the caller's object. `copy.deepcopy` walks each of an activity's forty-odd
    fields and every node of its card through its generic machinery; `_FieldCopied` makes the
    same deep copy directly (docs/performance.md).
    """

    async def _emit(self, plugins: Sequence[_Handler], arg: Any, logic: Awaitable[Any]) -> Any:
        await _emit_from(self, list(plugins), arg, 0)
        return await logic

    async def send_activities(self, activities: list[Activity]) -> Any:
        return await super().send_activities([_FieldCopied.view_of(a) for a in activities])


# Immutable: a copy may share them, as copy.deepcopy does.
_SHARED = frozenset({type(None), str, int, float, bool})


def _deep_copy(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of models, dicts and lists of plain values; anything else by copy.deepcopy."""
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is dict:  # most items are plain values: checked here, without a call each
        return {
            key: item if type(item) in _SHARED else _deep_copy(item, memo)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _SHARED else _deep_copy(item, memo) for item in value]
    if isinstance(value, Model):  # botbuilder's schema: attributes only, set by the constructor
        copied = object.__new__(kind)
        copied.__dict__.update(_deep_copy(vars(value), memo))
        return copied
    return copy.deepcopy(value, memo)


class _FieldCopied(Activity):  # type: ignore[misc,unused-ignore]
    """An activity whose deep copy is made by `_deep_copy`: the same copy, made directly."""

    @classmethod
    def view_of(cls, activity: Activity) -> _FieldCopied:
        """This class over the same fields (a shallow copy; the caller's object is not touched)."""
        view = object.__new__(cls)
        view.__dict__.update(vars(activity))
        return view

    def __deepcopy__(self, memo: dict[int, Any]) -> _FieldCopied:
        copied = object.__new__(type(self))
        copied.__dict__.update(_deep_copy(vars(self), memo))
        return copied


async def _emit_from(context: TurnContext, handlers: list[_Handler], arg: Any, index: int) -> None:
    if index < len(handlers):

        async def next_handler() -> None:
            await _emit_from(context, handlers, arg, index + 1)

        await handlers[index](context, arg, next_handler)
