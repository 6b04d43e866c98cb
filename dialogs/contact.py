"""How a manager reaches Bureau I&D while a flow is not in the bot yet (settings, never content)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from content.render import Message, Renderer
from content.schema import Lang

EMAIL_SETTING = "BUREAU_CONTACT_EMAIL"
URL_SETTING = "BUREAU_CONTACT_URL"


@dataclass(frozen=True)
class BureauContact:
    """The Bureau's e-mail address and web page; either may be empty, and is then left out."""

    email: str = ""
    url: str = ""

    @classmethod
    def from_links(cls, links: Mapping[str, str]) -> BureauContact:
        return cls(email=links.get(EMAIL_SETTING, ""), url=links.get(URL_SETTING, ""))

    def values(self) -> dict[str, Any]:
        """What the templates need: the address, the page and the buttons to reach them."""
        return {
            "email": self.email,
            "url": self.url,
            "mailto": f"mailto:{self.email}" if self.email else "",
        }

    def card(self, renderer: Renderer, lang: Lang, intro_key: str | None = None) -> Message:
        """The card that says how to reach the Bureau, after an optional intro text."""
        intro = renderer.templates.text(intro_key, lang) if intro_key else ""
        return renderer.card("contact", lang, intro=intro, **self.values())
