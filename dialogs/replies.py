"""Turn content templates into Bot Framework activities in the user's language."""

from __future__ import annotations

import copy
from typing import Any

from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, InputHints

from content.schema import Lang
from content.templates import Templates, pick_lang


def lang_of(turn_context: TurnContext) -> Lang:
    """The language to answer in: English when Teams' locale is English, else Dutch."""
    return pick_lang(turn_context.activity.locale)


class Reply(Activity):  # type: ignore[misc,unused-ignore]
    """An activity made fresh for one send; copying it need not copy its card.

    `TurnContext.send_activities` deep-copies every activity before addressing it, so a caller's
    activity is never changed. A reply is built for that one send from a card parsed anew, so a
    shallow copy (the addressing only sets top-level fields) protects the same and costs a
    fraction of deep-copying the card.
    """

    def __deepcopy__(self, memo: dict[int, object]) -> Reply:
        return copy.copy(self)


class Replies:
    """The only way dialogs and the bot put words in front of a user."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def text(self, key: str, lang: Lang, **values: Any) -> Activity:
        return Reply(
            type=ActivityTypes.message,
            text=self.templates.text(key, lang, **values),
            input_hint=InputHints.accepting_input,
        )

    def card(self, name: str, lang: Lang, **values: Any) -> Activity:
        card = self.templates.card(name, lang, **values)
        return Reply(
            type=ActivityTypes.message,
            attachments=[CardFactory.adaptive_card(card)],
            attachment_layout="list",
            input_hint=InputHints.accepting_input,
            # Screen readers and notifications read the summary when a card cannot be read aloud.
            summary=card.get("speak"),
        )

    def command(self, turn_context: TurnContext) -> str | None:
        """The command ('menu', 'stop') the user typed, if the message is one."""
        activity = turn_context.activity
        if activity.value:
            return None
        return self.templates.command(activity.text)

    async def send_menu(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(self.card("menu", lang_of(turn_context)))
