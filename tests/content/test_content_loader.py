"""load_catalog gives a read-only catalog of a valid toolkit and refuses a broken one."""

from __future__ import annotations

import pytest

from content.check import check_dir
from content.loader import ContentError, load_catalog
from content.schema import Faq, Offer, Theme
from tests.content.demo_toolkit import Toolkit


def test_catalog_holds_each_item_by_kind_and_id(toolkit: Toolkit) -> None:
    catalog = load_catalog(toolkit.root)
    assert isinstance(catalog.offers["demo-offer"], Offer)
    assert isinstance(catalog.themes["demo-theme"], Theme)
    assert isinstance(catalog.faqs["demo-faq"], Faq)
    assert catalog.synonyms[0].words == ["gesprek", "dialoog"]


def test_item_finds_any_kind_by_id(toolkit: Toolkit) -> None:
    catalog = load_catalog(toolkit.root)
    assert [catalog.item(i).kind for i in ("demo-faq", "demo-offer", "demo-theme")] == [
        "faq",
        "offer",
        "theme",
    ]


def test_item_with_unknown_id_raises_key_error(toolkit: Toolkit) -> None:
    with pytest.raises(KeyError):
        load_catalog(toolkit.root).item("nergens")


def test_items_lists_offers_then_themes_then_faq(toolkit: Toolkit) -> None:
    items = load_catalog(toolkit.root).items()
    assert [item.id for item in items] == ["demo-offer", "demo-theme", "demo-faq"]


def test_body_is_split_into_dutch_and_english(toolkit: Toolkit) -> None:
    body = load_catalog(toolkit.root).item("demo-offer").body
    assert (body("nl"), body("en")) == ("De Nederlandse tekst.", "The English text.")


def test_catalog_cannot_be_changed(toolkit: Toolkit) -> None:
    catalog = load_catalog(toolkit.root)
    with pytest.raises(TypeError):
        catalog.offers["extra"] = catalog.offers["demo-offer"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        catalog.synonyms = ()  # type: ignore[misc]


def test_broken_toolkit_raises_content_error_with_every_problem(toolkit: Toolkit) -> None:
    toolkit.replace("offers/demo-offer.md", "themes: [demo-theme]", "themes: [nope]")
    toolkit.replace("faq/demo-faq.md", "<!-- en -->", "")
    with pytest.raises(ContentError) as raised:
        load_catalog(toolkit.root)
    assert list(raised.value.problems) == check_dir(toolkit.root)
    assert len(raised.value.problems) == 2
    assert "unknown theme 'nope'" in str(raised.value)
