"""Every card the bot can send is a valid Adaptive Card 1.5, in Dutch and in English."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator

from bot.card_samples import sample_cards
from bot.card_text import card_text
from content.loader import load_catalog
from content.templates import CARDS_DIR, Templates, _environment, load_templates

SCHEMA = (
    Path(__file__).resolve().parents[3] / "shared/schemas/adaptivecards/1.5.0/adaptive-card.json"
)


@pytest.fixture(scope="module")
def validator() -> Draft6Validator:
    if not SCHEMA.exists():
        pytest.skip(f"the Adaptive Card schema is not at {SCHEMA}")
    return Draft6Validator(json.loads(SCHEMA.read_text()))


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


def assert_valid(card: dict[str, Any], validator: Draft6Validator) -> None:
    errors = sorted(validator.iter_errors(card), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert card["version"] == "1.5"
    for element in card.get("body", []):
        if element["type"] == "Image":
            assert element.get("altText"), "every image needs alt text"
    assert card.get("speak"), "a card needs a spoken summary for screen readers"


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("name", ["welcome", "menu"])
def test_static_cards_are_valid_adaptive_cards(
    name: str, lang: str, templates: Templates, validator: Draft6Validator
) -> None:
    assert_valid(templates.card(name, lang), validator)  # type: ignore[arg-type]


def test_texts_with_quotes_and_newlines_cannot_break_a_card(templates: Templates) -> None:
    card = templates.card("menu", "nl")
    titles = [button.title for button in card_text(card).buttons]
    assert "Aanbod vinden" in titles


def test_dutch_and_english_have_the_same_messages(templates: Templates) -> None:
    assert set(templates.messages["nl"]) == set(templates.messages["en"])


@pytest.fixture(scope="module")
def catalog() -> Any:
    from content.loader import load_catalog

    return load_catalog()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_toolkit_item_card_is_valid(
    lang: str, templates: Templates, catalog: Any, validator: Draft6Validator
) -> None:
    from dialogs.views import Views

    items = {item.id: item for item in catalog.items()}
    views = Views(templates, lang, {"TOOLKIT_ID_URL": "https://example.invalid/t"})  # type: ignore[arg-type]
    for item in items.values():
        assert_valid(templates.card("item", lang, **views.item(item, items)), validator)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_finder_card_is_valid_for_every_role_and_need(
    lang: str, templates: Templates, catalog: Any, validator: Draft6Validator
) -> None:
    from content.schema import Need, Role
    from dialogs.views import Views
    from services.matching import FinderAnswers, recommend

    items = {item.id: item for item in catalog.items()}
    views = Views(templates, lang, {})  # type: ignore[arg-type]
    for role in Role:
        for need in [None, *Need]:
            result = recommend(catalog, FinderAnswers(role=role, need=need))
            card = templates.card(
                "recommendations",
                lang,
                **views.recommendations(result, items, catalog.themes),  # type: ignore[arg-type]
            )
            assert_valid(card, validator)
    question = templates.card(
        "question",
        lang,
        step=2,
        steps=4,
        question="?",
        choices=[("a", "A")],  # type: ignore[arg-type]
        skippable=True,
        retry=True,
    )
    assert_valid(question, validator)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_answer_cards_are_valid(
    lang: str, templates: Templates, catalog: Any, validator: Draft6Validator
) -> None:
    hits = [{"title": "T", "kind": "K", "summary": "S", "why": "W", "buttons": []}]
    assert_valid(templates.card("answers", lang, hits=hits), validator)  # type: ignore[arg-type]
    assert_valid(templates.card("no_answer", lang), validator)  # type: ignore[arg-type]


def test_every_link_setting_in_the_toolkit_is_a_setting(catalog: Any) -> None:
    from bot.settings import Settings

    for offer in catalog.offers.values():
        if offer.link_setting:
            assert offer.link_setting in Settings.model_fields, offer.id


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize(
    "problem",
    [
        "action_unknown",
        "action_refused",
        "action_personal_only",
        "action_stale",
        "action_failed",
    ],
)
def test_the_action_routers_problem_cards_are_valid(
    problem: str, lang: str, templates: Templates, validator: Draft6Validator
) -> None:
    assert_valid(templates.card("action_problem", lang, problem=problem), validator)  # type: ignore[arg-type]


def test_an_execute_button_falls_back_to_a_submit_with_its_verb(
    validator: Draft6Validator,
) -> None:
    environment = _environment(CARDS_DIR)
    source = (
        '{% import "_macros.j2" as m %}{"type": "AdaptiveCard", "version": "1.5", '
        '"speak": "x", "body": [], "actions": [{{ m.execute("Claim", verbs.MENU, {"id": 1}) }}]}'
    )
    card = json.loads(environment.from_string(source).render())
    assert_valid(card, validator)
    (button,) = card["actions"]
    assert (button["type"], button["verb"], button["data"]) == ("Action.Execute", "menu", {"id": 1})
    assert button["fallback"]["type"] == "Action.Submit"
    assert button["fallback"]["data"] == {"id": 1, "action": "menu"}


def test_every_template_with_each_of_its_gallery_samples_is_valid(
    templates: Templates, validator: Draft6Validator
) -> None:
    """Every template under content/cards, with the samples the dev chat gallery draws it with."""
    for entry in sample_cards(templates, load_catalog()):
        assert "error" not in entry, entry
        try:
            assert_valid(entry["card"], validator)
        except AssertionError as error:
            raise AssertionError(
                f"{entry['template']} ({entry['sample']}, {entry['lang']})"
            ) from error


# Teams cuts a button's title when it does not fit; in a card a little over 300 pixels wide
# (Teams on a phone) about 25 characters fit, so the menu's titles stay under that.
MAX_MENU_TITLE = 25


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_menu_has_short_titles_one_button_per_row_and_explains_in_text(lang: str) -> None:
    menu = load_templates().card("menu", lang)
    rows = [e["actions"] for e in menu["body"] if e["type"] == "ActionSet"] + [menu["actions"]]
    assert all(len(row) == 1 for row in rows), "a row of buttons is squeezed: one per row"
    titles = [row[0]["title"] for row in rows]
    assert len(titles) == len(set(titles)) == 8
    for title in titles:
        assert len(title) <= MAX_MENU_TITLE, title
    # The four flows' buttons are each followed by the text that says what they do.
    body = menu["body"]
    explained = [
        body[i + 1]["text"]
        for i, element in enumerate(body[:-1])
        if element["type"] == "ActionSet" and body[i + 1]["type"] == "TextBlock"
    ]
    assert len(explained) == 4 and all(len(text) > len(titles[0]) for text in explained)


def button_rows(card: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every row of buttons a card shows: its ActionSets, and its action bar."""
    found: list[list[dict[str, Any]]] = [card["actions"]] if card.get("actions") else []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element["type"] == "ActionSet":
                found.append(element["actions"])
            walk(element.get("items", []))

    walk(card["body"])
    return found


# The manager's cards that end a path: their next steps are a button a row, never squeezed.
ONE_BUTTON_A_ROW = {"menu", "answers", "no_answer", "recommendations", "contact", "item"}


def test_a_managers_next_steps_are_a_button_a_row(templates: Templates) -> None:
    checked = set()
    for entry in sample_cards(templates, load_catalog()):
        if entry["template"] in ONE_BUTTON_A_ROW:
            rows = button_rows(entry["card"])
            assert rows and all(len(row) == 1 for row in rows), (entry["template"], rows)
            checked.add(entry["template"])
    assert checked == ONE_BUTTON_A_ROW
