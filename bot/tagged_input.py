"""Refuse card data whose keys look like jsonpickle's tags ("py/..."): no card of ours has them.

Such a key in what a flow keeps would make the stored state unreadable (or, read by a generic
decoder, code). The state codec refuses to write them and flows keep only the fields they
declare; this turns such a press away at the door, with an answer, before anything runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from botbuilder.core import InvokeResponse, Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs.replies import Replies, lang_of

log = logging.getLogger(__name__)

TAG_PREFIX = "py/"


def has_tagged_key(value: object) -> bool:
    """Whether any dict in `value`, however deep, has a key starting with "py/"."""
    pending = [value]
    while pending:  # a loop, not recursion: card data may be nested deeper than Python recurses
        item = pending.pop()
        if isinstance(item, Mapping):
            if any(isinstance(key, str) and key.startswith(TAG_PREFIX) for key in item):
                return True
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


class RefuseTaggedInput(Middleware):
    """Answers a press whose data has a "py/" key with a short refusal; nothing else runs."""

    def __init__(self, replies: Replies) -> None:
        self._replies = replies

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        if not has_tagged_key(activity.value):
            await logic()
            return
        log.warning("refused activity: card data with a 'py/' key (type=%s)", activity.type)
        if activity.type == ActivityTypes.invoke:
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=400))
            )
        else:
            await context.send_activity(self._replies.text("input_refused", lang_of(context)))
