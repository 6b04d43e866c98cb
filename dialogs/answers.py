"""Answers outside a flow: a question in the user's own words, and 'more about this item'."""

from __future__ import annotations

from collections.abc import Mapping

from botbuilder.core import TurnContext

from content.loader import Catalog
from content.render import Message
from content.schema import Lang
from content.search import SearchIndex
from content.triage_rules import SignalKind
from dialogs.replies import Replies, lang_of
from dialogs.views import Views
from services.triage import Triage


class Answers:
    """Finds toolkit items for a free question and shows one item in full."""

    def __init__(
        self,
        replies: Replies,
        catalog: Catalog,
        index: SearchIndex,
        links: Mapping[str, str],
        triage: Triage | None = None,
    ) -> None:
        self._replies = replies
        self._items = {item.id: item for item in catalog.items()}
        self._index = index
        self._links = links
        self._triage = triage

    def _views(self, turn_context: TurnContext) -> Views:
        return Views(self._replies.templates, lang_of(turn_context), self._links)

    async def answer_question(self, turn_context: TurnContext, text: str) -> None:
        """The top three matching items with a one-line reason, or an honest 'no good answer'.

        A question that tells of danger or of discrimination, threat or unsafety gets the way to
        the counsellor and the reporting routes first, as a help request's text does.
        """
        hits = self._index.search(text, limit=3)
        lang = lang_of(turn_context)
        await self._safety_route(turn_context, text)
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

    async def _safety_route(self, turn_context: TurnContext, text: str) -> None:
        signals = self._triage.signals(text) if self._triage is not None else ()
        if not signals or self._triage is None:
            return
        route = [self._items[i] for i in self._triage.rules.safety_route if i in self._items]
        card = self._replies.card(
            "safety_route",
            lang_of(turn_context),
            acute=any(signal.kind is SignalKind.ACUUT for signal in signals),
            items=self._views(turn_context).safety_route(route),
            question=True,
        )
        await turn_context.send_activity(card)

    def item_messages(self, lang: Lang, item_id: object) -> tuple[Message, ...]:
        """The whole item a 'more information' button points at; the menu if it is unknown."""
        renderer = self._replies.renderer
        item = self._items.get(str(item_id))
        if item is None:
            return renderer.text("item_unknown", lang), renderer.card("menu", lang)
        views = Views(self._replies.templates, lang, self._links)
        return (renderer.card("item", lang, **views.item(item, self._items)),)
