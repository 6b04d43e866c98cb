"""The root dialog: routes a card button, a typed command or a free question to its flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext

from dialogs.base import InterruptibleDialog
from dialogs.replies import Replies, lang_of

# A free question typed outside any flow is answered by this; None leaves the menu as answer.
QuestionAnswerer = Callable[[TurnContext, str], Awaitable[None]]
# A button that answers without starting a dialog, e.g. "more about this offer".
ActionHandler = Callable[[TurnContext, Mapping[str, Any]], Awaitable[None]]

# Menu entries whose flows come in later issues: the bot says so honestly.
NOT_YET = {
    "help_request": "not_yet_help_request",
    "wethouder": "not_yet_wethouder",
    "coaching": "not_yet_coaching",
    "my_data": "not_yet_my_data",
    "signup": "not_yet_signup",
    "apply": "not_yet_apply",
    "link_missing": "link_missing",
}


def card_action(turn_context: TurnContext) -> tuple[str | None, Mapping[str, Any]]:
    """The action name and data of a pressed card button, or (None, {}) for typed text."""
    value = turn_context.activity.value
    if isinstance(value, Mapping) and isinstance(value.get("action"), str):
        return value["action"], value
    return None, {}


class MainDialog(InterruptibleDialog):
    """Starts the flow a user asks for; ends when that flow ends."""

    def __init__(
        self,
        replies: Replies,
        *,
        flows: Mapping[str, Dialog] | None = None,
        actions: Mapping[str, ActionHandler] | None = None,
        answer_question: QuestionAnswerer | None = None,
    ) -> None:
        super().__init__(MainDialog.__name__, replies)
        self._flows = {name: dialog.id for name, dialog in (flows or {}).items()}
        self._actions = dict(actions or {})
        self._answer_question = answer_question
        for dialog in (flows or {}).values():
            self.add_dialog(dialog)
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.route_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn_context = step.context
        lang = lang_of(turn_context)
        action, data = card_action(turn_context)
        if action is None:
            await self._answer_text(turn_context)
        elif action in self._flows:
            return await step.begin_dialog(self._flows[action], dict(data))
        elif action in self._actions:
            await self._actions[action](turn_context, data)
        elif action == "menu":
            await self.replies.send_menu(turn_context)
        elif action == "help":
            await turn_context.send_activity(self.replies.text("help_text", lang))
        elif action in NOT_YET:
            await turn_context.send_activity(self.replies.text(NOT_YET[action], lang))
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
