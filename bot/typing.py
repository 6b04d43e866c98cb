"""Show that the bot is typing while a turn takes longer than a moment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

log = logging.getLogger(__name__)


class ShowTyping(Middleware):
    """Like botbuilder's ShowTypingMiddleware, but its timer ends with the turn.

    A fast turn sends nothing extra; a slow one sends a typing indicator after `delay` seconds
    and again every `period` seconds until the turn is done.
    """

    def __init__(self, *, delay: float = 0.5, period: float = 2.0) -> None:
        self._delay = delay
        self._period = period

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        if context.activity.type != ActivityTypes.message:
            await logic()
            return
        # A timer, not a task: most turns end before it fires, and a timer costs far less.
        typing: list[asyncio.Task[None]] = []
        # Set when the turn is done. Cancelling alone is not enough: a send that swallows the
        # cancellation would leave the loop typing forever and the turn never finished.
        done = asyncio.Event()
        timer = asyncio.get_running_loop().call_later(
            self._delay,
            lambda: typing.append(asyncio.create_task(self._keep_typing(context, done))),
        )
        try:
            await logic()
        finally:
            done.set()
            timer.cancel()
            for task in typing:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _keep_typing(self, context: TurnContext, done: asyncio.Event) -> None:
        reference = TurnContext.get_conversation_reference(context.activity)
        while not done.is_set():
            indicator = TurnContext.apply_conversation_reference(
                Activity(type=ActivityTypes.typing), reference
            )
            try:
                await context.adapter.send_activities(context, [indicator])
            except Exception as error:  # a typing indicator is never worth failing a turn for
                log.info("typing indicator not sent: %s", type(error).__name__)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self._period)
