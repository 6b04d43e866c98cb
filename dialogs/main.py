"""The root dialog: routes a card button, a typed command or a free question to its flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

from content.verbs import VERB_FIELD, Verb, verb_of
from dialogs.base import InterruptibleDialog
from dialogs.replies import Replies, lang_of

# A free question typed outside any flow is answered by this; None leaves the menu as answer.
QuestionAnswerer = Callable[[TurnContext, str], Awaitable[None]]


def card_action(turn_context: TurnContext) -> tuple[str | None, Mapping[str, Any]]:
    """The verb and data of a pressed Action.Submit button, or (None, {}) for typed text."""
    value = turn_context.activity.value
    if isinstance(value, Mapping) and isinstance(value.get(VERB_FIELD), str):
        return value[VERB_FIELD], value
    return None, {}


class MainDialog(InterruptibleDialog):
    """Starts the flow a user asks for; ends when that flow ends.

    Buttons that start a flow arrive here; every other button is the action router's
    (bot/actions.py), which the bot asks first.
    """

    def __init__(
        self,
        replies: Replies,
        *,
        flows: Mapping[Verb, Dialog] | None = None,
        answer_question: QuestionAnswerer | None = None,
    ) -> None:
        super().__init__(MainDialog.__name__, replies)
        self._flows = {name: dialog.id for name, dialog in (flows or {}).items()}
        self._answer_question = answer_question
        for dialog in (flows or {}).values():
            self.add_dialog(dialog)
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.route_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn_context = step.context
        lang = lang_of(turn_context)
        action, data = card_action(turn_context)
        flow = verb_of(action)
        if action is None:
            await self._answer_text(turn_context)
        elif flow is not None and flow in self._flows:
            return await step.begin_dialog(self._flows[flow], dict(data))
        else:
            await turn_context.send_activity(self.replies.text("unknown_action", lang))
            await self.replies.send_menu(turn_context)
        return await step.end_dialog()

    async def _answer_text(self, turn_context: TurnContext) -> None:
        command = self.replies.command(turn_context)
        text = (turn_context.activity.text or "").strip()
        if command == "stop":
            await turn_context.send_activity(self.replies.text("stopped", lang_of(turn_context)))
        elif command == "menu" or not text or self._answer_question is None:
            await self.replies.send_menu(turn_context)
        else:
            await self._answer_question(turn_context, text)
