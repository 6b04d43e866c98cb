"""What the result cards say about each offer, for every offer in the toolkit."""

from __future__ import annotations

import pytest

from content.loader import Catalog, load_catalog
from content.schema import LANGS, Lang
from content.templates import Templates, load_templates
from dialogs.views import Views


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "links",
    [{}, {"TOOLKIT_ID_URL": "https://x.invalid/t", "BUREAU_CONTACT_EMAIL": "id@x.invalid"}],
)
def test_how_to_get_an_offer_always_says_how(
    catalog: Catalog, templates: Templates, lang: Lang, links: dict[str, str]
) -> None:
    views = Views(templates, lang, links)
    for offer in catalog.offers.values():
        how = views.offer_facts(offer)[-1]["value"]
        signs_up_here = offer.sessions and ("in deze chat" in how or "in this chat" in how)
        assert "Bureau I&D" in how or "link" in how or signs_up_here, (offer.id, how)
        assert "Alleen ter informatie" not in how and "{" not in how


def test_how_names_the_bureau_address_when_it_is_set(
    catalog: Catalog, templates: Templates
) -> None:
    views = Views(templates, "nl", {"BUREAU_CONTACT_EMAIL": "id@x.invalid"})
    how = views.offer_facts(catalog.offers["coaching-pilot"])[-1]["value"]
    assert how == (
        "Aanmelden via deze bot kan nog niet. Meld je aan bij Bureau I&D via id@x.invalid."
        " Het Bureau kiest de deelnemers."
    )


def test_an_offer_with_dates_says_to_sign_up_in_this_chat(
    catalog: Catalog, templates: Templates
) -> None:
    views = Views(templates, "nl", {"BUREAU_CONTACT_EMAIL": "id@x.invalid"})
    wethouder = catalog.offers["wethoudersgesprekken"]
    how = views.offer_facts(wethouder)[-1]["value"]
    assert how == "Kies een gesprek en meld je aan in deze chat, met de knop hieronder."
    assert [b["title"] for b in views.next_steps(wethouder)] == ["Gesprekken en aanmelden"]


def test_a_link_offer_without_its_link_has_no_button(
    catalog: Catalog, templates: Templates
) -> None:
    views = Views(templates, "nl", {})
    assert views.next_steps(catalog.offers["toolkit-id"]) == []
    linked = Views(templates, "nl", {"TOOLKIT_ID_URL": "https://x.invalid/t"})
    assert linked.next_steps(catalog.offers["toolkit-id"])[0]["url"] == "https://x.invalid/t"


def test_capacity_is_a_number_under_its_own_title(catalog: Catalog, templates: Templates) -> None:
    facts = Views(templates, "nl", {}).offer_facts(catalog.offers["coaching-pilot"])
    assert {"title": "Aantal plekken", "value": "10"} in facts


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_names_the_documents_it_rests_on(
    catalog: Catalog, templates: Templates, lang: Lang
) -> None:
    # The sources were in the front matter only: a manager read "in 60% van de gevallen"
    # without being told where it came from, or that the Bureau must still confirm a page.
    views = Views(templates, lang, {})
    items = {item.id: item for item in catalog.items()}
    for item in items.values():
        view = views.item(item, items)["item"]
        seeds = [s for s in item.sources if s != "bureau"]
        if seeds:
            assert view["sources"].startswith(("Bron: ", "Source: ")), item.id
            assert "{" not in view["sources"] and ".txt" not in view["sources"], item.id
        assert view["to_confirm"] == ("bureau" in item.sources), item.id


def test_the_research_page_names_the_briefing_for_the_alderman(
    catalog: Catalog, templates: Templates
) -> None:
    items = {item.id: item for item in catalog.items()}
    view = Views(templates, "nl", {}).item(items["verwey-jonker-onderzoek"], items)["item"]
    assert (
        "notitie voor de wethouder over het gesprek met leidinggevenden (2024)" in (view["sources"])
    )
