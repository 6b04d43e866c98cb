"""Turn content templates into Bot Framework activities in the user's language."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from content.schema import Lang
from content.templates import Templates, pick_lang


def lang_of(turn_context: TurnContext) -> Lang:
    """The language to answer in: English when Teams' locale is English, else Dutch."""
    return pick_lang(turn_context.activity.locale)


class Replies:
    """The only way dialogs and the bot put words in front of a user."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def text(self, key: str, lang: Lang, **values: Any) -> Activity:
        return MessageFactory.text(self.templates.text(key, lang, **values))

    def card(self, name: str, lang: Lang, **values: Any) -> Activity:
        card = self.templates.card(name, lang, **values)
        activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        # Screen readers and notifications read the summary when a card cannot be read aloud.
        activity.summary = card.get("speak")
        return activity

    def command(self, turn_context: TurnContext) -> str | None:
        """The command ('menu', 'stop') the user typed, if the message is one."""
        activity = turn_context.activity
        if activity.value:
            return None
        return self.templates.command(activity.text)

    async def send_menu(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(self.card("menu", lang_of(turn_context)))
