"""Shape toolkit items and finder results into what the card templates show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from content.schema import Access, Lang, Offer, Theme, ToolkitItem
from content.templates import Templates
from content.verbs import VERB_FIELD, Verb
from services.matching import Answer, FinderResult, Reason

View = dict[str, Any]

# The next step a manager can take, by how the offer is had. Flows for signing up, applying and
# asking the Bureau come in later issues; until then their handlers say so honestly.
NEXT_STEP = {
    Access.AANMELDEN: ("action_signup", Verb.SIGNUP),
    Access.SELECTIE: ("action_apply", Verb.APPLY),
    Access.AANVRAGEN: ("action_request", Verb.HELP_REQUEST),
}


class Views:
    """Builds card data in one language; every word still comes from content/."""

    def __init__(self, templates: Templates, lang: Lang, links: Mapping[str, str]) -> None:
        self._templates = templates
        self.lang = lang
        self._links = links

    def t(self, key: str, **values: Any) -> str:
        return self._templates.text(key, self.lang, **values)

    def kind(self, item: ToolkitItem) -> str:
        if isinstance(item, Offer):
            return self.t("kind_offer")
        return self.t("kind_theme") if isinstance(item, Theme) else self.t("kind_faq")

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
        facts.append({"title": self.t("fact_how"), "value": self.t(f"access_{offer.access.value}")})
        return facts

    def next_steps(self, offer: Offer) -> list[View]:
        """The offer's own next step as a button: sign up, apply, request, or its link."""
        if offer.access in NEXT_STEP:
            title, verb = NEXT_STEP[offer.access]
            return [{"title": self.t(title), "data": {VERB_FIELD: verb, "offer": offer.id}}]
        if offer.access is Access.LINK and offer.link_setting:
            url = self._links.get(offer.link_setting)
            if url:
                return [{"title": self.t("action_open_link"), "url": url}]
            return [{"title": self.t("action_open_link"), "data": {VERB_FIELD: Verb.LINK_MISSING}}]
        return []

    def more_button(self, item: ToolkitItem) -> View:
        # The title in the button tells a screen reader which of several buttons this is.
        title = self.t("action_more_about", title=item.title(self.lang))
        return {"title": title, "data": {VERB_FIELD: Verb.ITEM, "id": item.id}}

    def reasons(self, reasons: list[Reason], themes: Mapping[str, Theme]) -> str:
        parts = []
        for reason in reasons:
            if reason.answer is Answer.ROLE:
                parts.append(
                    self.t("reason_role_only")
                    if reason.only_for_this_role
                    else self.t("reason_role", role=self.t(f"role_{reason.value}"))
                )
            elif reason.answer is Answer.THEME:
                parts.append(self.t("reason_theme", theme=themes[reason.value].title(self.lang)))
            elif reason.answer is Answer.NEED:
                parts.append(self.t("reason_need", need=self.t(f"need_{reason.value}")))
            else:
                parts.append(self.t("reason_format", format=self.t(f"format_{reason.value}")))
        return self.t("finder_why", reasons="; ".join(parts))

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
        exclusions = []
        for excluded in result.exclusions:
            instead = items.get(excluded.exclusion.instead or "")
            exclusions.append(
                {
                    "title": excluded.offer.title(self.lang),
                    "reason": excluded.exclusion.reason(self.lang),
                    "instead": {"id": instead.id, "title": instead.title(self.lang)}
                    if instead
                    else None,
                }
            )
        return {"offers": offers, "exclusions": exclusions}

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
        related = [items[i] for i in item.related if i in items][:3]
        return {
            "item": view,
            "related": [{"id": r.id, "title": r.title(self.lang)} for r in related],
        }
