"""Answers outside a flow: a question in the user's own words, and 'more about this item'."""

from __future__ import annotations

from collections.abc import Mapping

from botbuilder.core import TurnContext

from content.loader import Catalog
from content.render import Message
from content.schema import Lang
from content.search import SearchIndex
from dialogs.replies import Replies, lang_of
from dialogs.views import Views


class Answers:
    """Finds toolkit items for a free question and shows one item in full."""

    def __init__(
        self, replies: Replies, catalog: Catalog, index: SearchIndex, links: Mapping[str, str]
    ) -> None:
        self._replies = replies
        self._items = {item.id: item for item in catalog.items()}
        self._index = index
        self._links = links

    def _views(self, turn_context: TurnContext) -> Views:
        return Views(self._replies.templates, lang_of(turn_context), self._links)

    async def answer_question(self, turn_context: TurnContext, text: str) -> None:
        """The top three matching items with a one-line reason, or an honest 'no good answer'."""
        hits = self._index.search(text, limit=3)
        lang = lang_of(turn_context)
        if not hits:
            await turn_context.send_activity(self._replies.card("no_answer", lang))
            return
        views = self._views(turn_context)
        shown = [
            {
                "title": hit.item.title(lang),
                "kind": views.kind(hit.item),
                "summary": hit.item.summary(lang),
                "why": views.search_reason(hit.matched_terms),
                "buttons": [views.more_button(hit.item)],
            }
            for hit in hits
        ]
        await turn_context.send_activity(self._replies.card("answers", lang, hits=shown))

    def item_messages(self, lang: Lang, item_id: object) -> tuple[Message, ...]:
        """The whole item a 'more information' button points at; the menu if it is unknown."""
        renderer = self._replies.renderer
        item = self._items.get(str(item_id))
        if item is None:
            return renderer.text("item_unknown", lang), renderer.card("menu", lang)
        views = Views(self._replies.templates, lang, self._links)
        return (renderer.card("item", lang, **views.item(item, self._items)),)
