"""Rendered messages as Bot Framework activities, in the user's language."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, InputHints

from content.render import Message, Renderer
from content.schema import Lang
from content.templates import Templates, pick_lang


def lang_of(turn_context: TurnContext) -> Lang:
    """The language to answer in: English when Teams' locale is English, else Dutch."""
    return pick_lang(turn_context.activity.locale)


PERSONAL = "personal"


def conversation_scope(turn_context: TurnContext) -> str:
    """The kind of conversation: personal, groupChat or channel (personal when unsaid)."""
    conversation = turn_context.activity.conversation
    return (conversation.conversation_type if conversation else None) or PERSONAL


def message_activity(message: Message) -> Activity:
    """The activity that shows `message`: its text, or its card with the spoken summary."""
    if message.card is None:
        return Activity(
            type=ActivityTypes.message, text=message.text, input_hint=InputHints.accepting_input
        )
    return Activity(
        type=ActivityTypes.message,
        attachments=[CardFactory.adaptive_card(message.card)],
        attachment_layout="list",
        input_hint=InputHints.accepting_input,
        # Screen readers and notifications read the summary when a card cannot be read aloud.
        summary=message.summary,
    )


class Replies:
    """The only way dialogs and the bot put words in front of a user in a turn."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self.renderer = Renderer(templates)

    def text(self, key: str, lang: Lang, **values: Any) -> Activity:
        return message_activity(self.renderer.text(key, lang, **values))

    def card(self, name: str, lang: Lang, **values: Any) -> Activity:
        return message_activity(self.renderer.card(name, lang, **values))

    def command(self, turn_context: TurnContext) -> str | None:
        """The command ('menu', 'stop') the user typed, if the message is one."""
        activity = turn_context.activity
        if activity.value:
            return None
        return self.templates.command(activity.text)

    async def send_menu(self, turn_context: TurnContext) -> None:
        # In a group chat or channel only the finder works; the menu says where the rest is.
        scope = conversation_scope(turn_context)
        # No value in a personal chat: the one menu every other caller renders, rendered once.
        shared = {} if scope == PERSONAL else {"shared": scope}
        await turn_context.send_activity(self.card("menu", lang_of(turn_context), **shared))
