"""What happens when a turn fails: log without personal text, tell the user, lose nothing."""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs.replies import Replies, lang_of
from storage.bot_state import EtagConflictError
from storage.breaker import DatabaseUnavailable

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
        if isinstance(error, DatabaseUnavailable):
            log.warning("turn refused: %s", describe(error.__cause__ or error))
            text, status = "db_unavailable", HTTPStatus.SERVICE_UNAVAILABLE
        elif isinstance(error, EtagConflictError):
            # Two turns of one conversation at once (a double click, two quick messages): the
            # other saved first. Nothing broke; the person may need to look and do it again.
            log.warning("turn overtaken by another of its conversation: %s", describe(error))
            text, status = "state_conflict", HTTPStatus.CONFLICT
        else:
            log.error("turn failed: %s", describe(error))
            text, status = "error_text", HTTPStatus.INTERNAL_SERVER_ERROR
        try:
            if turn_context.activity.type == ActivityTypes.invoke:
                # An invoke is answered in the HTTP response: a status, not a message.
                await turn_context.send_activity(
                    Activity(
                        type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(status))
                    )
                )
            await turn_context.send_activity(replies.text(text, lang_of(turn_context)))
        except Exception as send_error:  # the connector may be what failed
            log.error("could not tell the user about the failure: %s", describe(send_error))

    return on_turn_error
