"""What happens when a turn fails: log without personal text, tell the user, lose nothing."""

from __future__ import annotations

import logging
import traceback

from botbuilder.core import TurnContext

from dialogs.replies import Replies, lang_of

log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    """The exception's type and where it happened, without its message (it may hold user text)."""
    frames = traceback.extract_tb(error.__traceback__)[-5:]
    where = " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
    )
    return f"{type(error).__module__}.{type(error).__qualname__} at {where or 'unknown'}"


def make_on_turn_error(replies: Replies):  # type: ignore[no-untyped-def]
    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        # State is saved only at the end of a successful turn, so the user's earlier answers
        # are still there; we say so, and keep the dialog state as it was.
        log.error("turn failed: %s", describe(error))
        try:
            await turn_context.send_activity(replies.text("error_text", lang_of(turn_context)))
        except Exception as send_error:  # the connector may be what failed
            log.error("could not tell the user about the failure: %s", describe(send_error))

    return on_turn_error
