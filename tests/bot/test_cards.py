"""Every card the bot can send is a valid Adaptive Card 1.5, in Dutch and in English."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator

from bot.card_text import card_text
from content.templates import Templates, load_templates

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
    assert card_text(card).buttons[0].title == "Aanbod vinden dat bij mij past"


def test_dutch_and_english_have_the_same_messages(templates: Templates) -> None:
    assert set(templates.messages["nl"]) == set(templates.messages["en"])
