"""Every card the bot can send, drawn once by Microsoft's renderer, in Dutch and in English.

A card can validate against the schema and still render wrong (an element the renderer drops,
a property it refuses, too many actions for Teams) or empty. The gallery page draws each
template with its samples (bot/card_samples.py); this test fails on any renderer complaint and
on any text or button of the card JSON that does not show.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from content.templates import as_plain_text, load_templates
from tests.devchat.conftest import Browser

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s+", re.MULTILINE)  # drawn as a list, not as text
NOT_A_WORD = re.compile(r"[\W_]+")


def words(text: str) -> str:
    """Text as a person reads it: Markdown links and lists as their text, words in lower case.

    Escaped characters (what someone typed, content.templates.literal) as themselves.
    """
    text = as_plain_text(text)
    text = LIST_MARKER.sub("", MARKDOWN_LINK.sub(r"\1", text))
    return " ".join(NOT_A_WORD.sub(" ", text).casefold().split())


def shown_texts(card: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The texts and the button titles the card's JSON says a person should see."""
    texts: list[str] = []
    buttons: list[str] = []

    def elements(items: list[dict[str, Any]]) -> None:
        for element in items:
            kind = element.get("type")
            if kind == "TextBlock":
                texts.append(element["text"])
            elif kind == "RichTextBlock":
                texts.append("".join(i.get("text", "") for i in element.get("inlines", [])))
            elif kind == "FactSet":
                texts.extend(f"{f['title']} {f['value']}" for f in element["facts"])
            elif kind == "Input.ChoiceSet":
                texts.extend(choice["title"] for choice in element.get("choices", []))
            elif kind == "ActionSet":
                actions(element["actions"])
            if isinstance(kind, str) and kind.startswith("Input.") and element.get("label"):
                texts.append(element["label"])
            elements(element.get("items", []))
            for column in element.get("columns", []):
                elements(column.get("items", []))

    def actions(items: list[dict[str, Any]]) -> None:
        buttons.extend(action["title"] for action in items)

    elements(card.get("body", []))
    actions(card.get("actions", []))
    return texts, buttons


async def test_every_card_template_renders_fully_and_a_broken_card_would_not(
    browser: Browser,
) -> None:
    page = browser.page
    await page.goto(f"{browser.base_url}/dev/chat/gallery")
    await page.wait_for_function("() => window.gallery && window.gallery.done")
    results: list[dict[str, Any]] = await page.evaluate("() => window.gallery.results")
    await browser.screenshot("gallery")

    templates = load_templates()
    drawn = {(r["template"], r["lang"]) for r in results}
    assert drawn == {(name, lang) for name in templates.cards for lang in ("nl", "en")}
    wrong = []
    for result in results:
        where = f"{result['template']} ({result['lang']}, {result['sample']})"
        if result["problems"]:
            wrong.append(f"{where}: {'; '.join(result['problems'])}")
            continue
        texts, buttons = shown_texts(result["card"])
        rendered = words(result["text"])
        missing = [text for text in texts if words(text) not in rendered]
        if missing:
            wrong.append(f"{where}: does not show {missing}")
        if [words(b) for b in result["buttons"]] != [words(b) for b in buttons]:
            wrong.append(f"{where}: buttons {result['buttons']} instead of {buttons}")
    assert wrong == []
    assert browser.errors == []
    assert browser.outside == []

    # The check can fail: what Teams' renderer does not know, or too many buttons, is a problem,
    # and so is a card that shows nothing.
    problems = await page.evaluate(
        """() => WegwijzerCards.render({
            type: "AdaptiveCard", version: "1.5",
            body: [{type: "Carousel.Unknown", text: "x"}],
            actions: Array.from({length: 7}, (_, i) => ({type: "Action.Submit", title: "b" + i}))
        }, () => {}).problems"""
    )
    assert any("Carousel.Unknown" in p for p in problems)
    assert any("actions" in p.lower() for p in problems)
    empty = await page.evaluate(
        '() => WegwijzerCards.render({type: "AdaptiveCard", version: "1.5", body: []}, () => {})'
        ".problems"
    )
    assert empty == ["render: the card shows no text"]
