"""The root dialog: routes a card button, a typed command or a free question to its flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.schema import ActivityTypes

from content.verbs import VERB_FIELD, Verb, verb_of
from content.words import Words, load_words
from dialogs.base import InterruptibleDialog
from dialogs.contact import BureauContact
from dialogs.options import options_model_of
from dialogs.replies import PERSONAL, Replies, conversation_scope, lang_of, message_activity

# A free question typed outside any flow is answered by this; None leaves the menu as answer.
QuestionAnswerer = Callable[[TurnContext, str], Awaitable[None]]
# The longest text a finder card hands back as a free question (the search reads less).
MAX_ASK_CHARS = 600


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
        contact: BureauContact | None = None,
        words: Words | None = None,
    ) -> None:
        super().__init__(MainDialog.__name__, replies)
        self._flows = {
            name: (dialog.id, options_model_of(dialog)) for name, dialog in (flows or {}).items()
        }
        self._answer_question = answer_question
        self._contact = contact or BureauContact()
        self._words = words or load_words()
        for dialog in (flows or {}).values():
            self.add_dialog(dialog)
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.route_step]))
        self.initial_dialog_id = WaterfallDialog.__name__

    @property
    def verbs(self) -> frozenset[Verb]:
        """The buttons this dialog answers; the action router answers every other one."""
        return frozenset({*self._flows, Verb.ASK, Verb.STOP})

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        """A button that starts a flow, asks a question or stops ends the flow that runs."""
        turn_context = inner_dc.context
        action, _ = card_action(turn_context)
        verb = verb_of(action)
        if turn_context.activity.type != ActivityTypes.message or verb is None:
            return await super().interrupt(inner_dc)
        if verb is Verb.STOP:
            return await self.leave(inner_dc, stop=True)
        if verb is Verb.ASK or verb in self._flows:
            await inner_dc.cancel_all_dialogs()
            return await inner_dc.begin_dialog(WaterfallDialog.__name__)
        return await super().interrupt(inner_dc)

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn_context = step.context
        lang = lang_of(turn_context)
        action, data = card_action(turn_context)
        verb = verb_of(action)
        typed_help = action is None and self._wants_help_request(turn_context)
        in_personal_chat = conversation_scope(turn_context) == PERSONAL
        if (typed_help or verb is Verb.HELP_REQUEST) and not in_personal_chat:
            # A request may describe discrimination: never asked or shown where others read along.
            await turn_context.send_activity(self.replies.text("command_personal_only", lang))
            return await step.end_dialog()
        if typed_help:
            dialog_id, _ = self._flows[Verb.HELP_REQUEST]
            return await step.begin_dialog(dialog_id, {})
        if action is None and Verb.FINDER in self._flows and self._typed_finder(turn_context):
            dialog_id, _ = self._flows[Verb.FINDER]
            return await step.begin_dialog(dialog_id, {})
        if (
            action is None
            and isinstance(turn_context.activity.value, Mapping)
            and turn_context.activity.value
        ):
            # A form or finder card pressed after its flow ended (sent, stopped, pressed twice).
            await turn_context.send_activity(self.replies.text("card_flow_ended", lang))
            await self.replies.send_menu(turn_context)
        elif action is None:
            await self._answer_text(turn_context)
        elif verb is not None and verb in self._flows:
            dialog_id, options_model = self._flows[verb]
            # Only the fields the flow declares go into its state; data that does not fit: no flow.
            options = options_model.from_card(data)
            if options is not None:
                return await step.begin_dialog(dialog_id, options.stored())
            await turn_context.send_activity(self.replies.text("input_refused", lang))
        elif verb is Verb.ASK and isinstance(data.get("text"), str) and data["text"].strip():
            await self._answer(turn_context, data["text"].strip()[:MAX_ASK_CHARS])
        elif verb is Verb.STOP:
            await self._nothing_to_stop(turn_context)
        else:
            # The action router answers other buttons; one that reaches here gets its answer.
            await turn_context.send_activity(
                self.replies.card("action_problem", lang, problem="action_unknown")
            )
        return await step.end_dialog()

    def _wants_help_request(self, turn_context: TurnContext) -> bool:
        """Typed that they want to ask the Bureau for help (words in content/words.yaml)."""
        return Verb.HELP_REQUEST in self._flows and self._words.wants_help_request(
            turn_context.activity.text
        )

    def _typed_finder(self, turn_context: TurnContext) -> bool:
        """Typed the finder's menu button ('aanbod vinden'; words in content/commands.yaml)."""
        return self.replies.command(turn_context) == "finder"

    async def _answer_text(self, turn_context: TurnContext) -> None:
        command = self.replies.command(turn_context)
        text = (turn_context.activity.text or "").strip()
        if command == "stop":
            await self._nothing_to_stop(turn_context)
        elif command == "menu" or not text:
            await self.replies.send_menu(turn_context)
        else:
            await self._answer(turn_context, text)

    async def _answer(self, turn_context: TurnContext, text: str) -> None:
        """Answer small talk and 'how do I reach the Bureau' from content; search the rest."""
        lang = lang_of(turn_context)
        small_talk = self._words.small_talk_of(text)
        if small_talk is not None and small_talk.answer == "contact_intro":
            card = self._contact.card(self.replies.renderer, lang, "contact_intro")
            await turn_context.send_activity(message_activity(card))
        elif small_talk is not None:
            await turn_context.send_activity(self.replies.text(small_talk.answer, lang))
            await self.replies.send_menu(turn_context)
        elif self._answer_question is None:
            await self.replies.send_menu(turn_context)
        else:
            await self._answer_question(turn_context, text)

    async def _nothing_to_stop(self, turn_context: TurnContext) -> None:
        lang = lang_of(turn_context)
        await turn_context.send_activity(self.replies.text("nothing_to_stop", lang))
        await self.replies.send_menu(turn_context)
