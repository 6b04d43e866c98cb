"""Shape toolkit items and finder results into what the card templates show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from content.schema import BUREAU, Access, Lang, Offer, Theme, ToolkitItem
from content.templates import Templates
from content.verbs import VERB_FIELD, Verb
from dialogs.contact import BureauContact
from services.matching import Answer, FinderResult, Reason

View = dict[str, Any]

# The next step a manager can take, by how the offer is had. An offer one requests from the
# Bureau starts a help request about it (the gespreksbegeleider's own kind, see
# dialogs.help_request.kind_of). Signing up is a flow for an offer whose dates the Bureau plans
# in the bot (`sessions`): SESSIONS_STEP; for any other offer it says how to reach the Bureau.
SESSIONS_STEP = ("action_sessions", Verb.SIGNUP)
NEXT_STEP = {
    Access.AANMELDEN: ("action_signup", Verb.SIGNUP),
    Access.SELECTIE: ("action_apply", Verb.APPLY),
    Access.AANVRAGEN: ("action_request", Verb.HELP_REQUEST),
}


def source_key(source: str) -> str:
    """The message naming a seed document: source_ and its number ("004_....txt": source_004)."""
    return f"source_{source[:3]}"


class Views:
    """Builds card data in one language; every word still comes from content/."""

    def __init__(self, templates: Templates, lang: Lang, links: Mapping[str, str]) -> None:
        self._templates = templates
        self.lang = lang
        self._links = links
        self._contact = BureauContact.from_links(links)

    def t(self, key: str, **values: Any) -> str:
        return self._templates.text(key, self.lang, **values)

    def kind(self, item: ToolkitItem) -> str:
        if isinstance(item, Offer):
            return self.t("kind_offer")
        return self.t("kind_theme") if isinstance(item, Theme) else self.t("kind_faq")

    def _link(self, offer: Offer) -> str:
        return self._links.get(offer.link_setting, "") if offer.link_setting else ""

    def offer_facts(self, offer: Offer) -> list[View]:
        facts = [
            {
                "title": self.t("fact_for_whom"),
                "value": ", ".join(self.t(f"role_{role.value}") for role in offer.roles),
            },
            {"title": self.t("fact_effort"), "value": offer.effort(self.lang)},
        ]
        if offer.capacity:
            facts.append(
                {
                    "title": self.t("fact_capacity"),
                    "value": self.t("fact_capacity_value", capacity=offer.capacity),
                }
            )
        how = "access_sessions" if offer.sessions else f"access_{offer.access.value}"
        if offer.access is Access.LINK and not self._link(offer):
            how = "access_link_missing"
        facts.append({"title": self.t("fact_how"), "value": self.t(how, email=self._contact.email)})
        return facts

    def next_steps(self, offer: Offer) -> list[View]:
        """The offer's own next step as a button: its link when configured, else the Bureau."""
        if offer.access in NEXT_STEP:
            title, verb = SESSIONS_STEP if offer.sessions else NEXT_STEP[offer.access]
            return [{"title": self.t(title), "data": {VERB_FIELD: verb, "offer": offer.id}}]
        url = self._link(offer) if offer.access is Access.LINK else ""
        # Without its link the facts say to ask the Bureau, and the card's own button does that.
        return [{"title": self.t("action_open_link"), "url": url}] if url else []

    def more_button(self, item: ToolkitItem) -> View:
        # The title in the button tells a screen reader which of several buttons this is.
        title = self.t("action_more_about", title=item.title(self.lang))
        return {"title": title, "data": {VERB_FIELD: Verb.ITEM, "id": item.id}}

    def reasons(self, reasons: list[Reason], themes: Mapping[str, Theme]) -> str:
        """Why an offer fits, as short sentences in the "je" form, one per matched answer."""
        parts = []
        for reason in reasons:
            if reason.answer is Answer.ROLE:
                key = "reason_role_only" if reason.only_for_this_role else None
                parts.append(self.t(key or f"reason_role_{reason.value}"))
            elif reason.answer is Answer.THEME:
                parts.append(self.t("reason_theme", theme=themes[reason.value].title(self.lang)))
            elif reason.answer is Answer.NEED:
                parts.append(self.t(f"reason_need_{reason.value}"))
            else:
                parts.append(self.t(f"reason_format_{reason.value}"))
        return self.t("finder_why", reasons=" ".join(parts))

    def search_reason(self, terms: list[str]) -> str:
        """Why a search hit fits: the keywords, themes or synonyms of the question it matched."""
        if not terms:
            return self.t("answers_reason_general")
        shown = [f"'{term}'" for term in terms[:3]]
        listed = (
            ", ".join(shown[:-1]) + f" {self.t('and')} {shown[-1]}" if len(shown) > 1 else shown[0]
        )
        return self.t("answers_reason", terms=listed)

    def recommendations(
        self, result: FinderResult, items: Mapping[str, ToolkitItem], themes: Mapping[str, Theme]
    ) -> dict[str, Any]:
        offers = [
            {
                "title": r.offer.title(self.lang),
                "summary": r.offer.summary(self.lang),
                "why": self.reasons(r.reasons, themes),
                "facts": self.offer_facts(r.offer),
                "buttons": [self.more_button(r.offer), *self.next_steps(r.offer)],
            }
            for r in result.recommendations
        ]
        # An item gets one "more about" button per card: a recommended offer has its own.
        has_button = {r.offer.id for r in result.recommendations}
        exclusions = []
        for excluded in result.exclusions:
            instead = items.get(excluded.exclusion.instead or "")
            exclusions.append(
                {
                    "title": excluded.offer.title(self.lang),
                    "reason": excluded.exclusion.reason(self.lang),
                    "instead": {
                        "id": instead.id,
                        "title": instead.title(self.lang),
                        "button": instead.id not in has_button,
                    }
                    if instead
                    else None,
                }
            )
            if instead is not None:
                has_button.add(instead.id)
        return {"offers": offers, "exclusions": exclusions}

    def safety_route(self, items: Sequence[ToolkitItem]) -> list[View]:
        """The safety route's pages, each with its links only (a chat button would interrupt)."""
        return [
            {
                "title": item.title(self.lang),
                "summary": item.summary(self.lang),
                "links": [
                    button
                    for button in (self.next_steps(item) if isinstance(item, Offer) else [])
                    if "url" in button
                ],
            }
            for item in items
        ]

    def item(self, item: ToolkitItem, items: Mapping[str, ToolkitItem]) -> dict[str, Any]:
        view: View = {
            "title": item.title(self.lang),
            "kind": self.kind(item),
            "summary": item.summary(self.lang),
            "body": item.body(self.lang),
        }
        if isinstance(item, Offer):
            view["facts"] = self.offer_facts(item)
            view["buttons"] = self.next_steps(item)
        # What the page rests on, named: the Bureau's documents, and what it must still confirm.
        seeds = [self.t(source_key(s)) for s in item.sources if s != BUREAU]
        if seeds:
            view["sources"] = self.t("item_sources", sources="; ".join(seeds))
        view["to_confirm"] = item.to_confirm
        related = [items[i] for i in item.related if i in items][:3]
        return {
            "item": view,
            "related": [{"id": r.id, "title": r.title(self.lang)} for r in related],
        }
