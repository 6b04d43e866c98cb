"""Messages and cards in the recipient's language, without a turn, a chat platform or dialogs.

Dialogs, the action router, the Bureau's channel cards and a background sender all render here,
from the same templates: `Renderer(templates).card("menu", pick_lang(locale))` gives a
`Message` that any of them turns into what its channel needs (a Bot Framework activity, an
invoke response's card).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from content.schema import Lang
from content.templates import Templates, pick_lang

__all__ = ["Message", "Renderer", "pick_lang"]


@dataclass(frozen=True, slots=True)
class Message:
    """One message in one language: a text, or an Adaptive Card with its spoken summary."""

    lang: Lang
    text: str | None = None
    card: dict[str, Any] | None = None

    @property
    def summary(self) -> str | None:
        """What a screen reader or a notification reads when the card cannot be read aloud."""
        if self.card is None:
            return None
        speak = self.card.get("speak")
        return speak if isinstance(speak, str) else None


class Renderer:
    """Renders content/'s texts and card templates into `Message`s."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def text(self, key: str, lang: Lang, **values: Any) -> Message:
        return Message(lang=lang, text=self.templates.text(key, lang, **values))

    def card(self, name: str, lang: Lang, **values: Any) -> Message:
        return Message(lang=lang, card=self.templates.card(name, lang, **values))
