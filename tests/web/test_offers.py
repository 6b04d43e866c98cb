"""Finding an offer end to end through /api/messages: the finder, a free question, an item."""

from __future__ import annotations

import json
from typing import Any

from tests.web.conftest import RunningBot
from tests.web.test_messages import cards


def texts(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element["type"] == "TextBlock":
                found.append(element["text"])
            elif "label" in element:  # a question is the label of its input
                found.append(element["label"])
            walk(element.get("items", []))

    walk(card["body"])
    return found


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = list(card.get("actions", []))

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element["type"] == "ActionSet":
                found.extend(element["actions"])
            walk(element.get("items", []))

    walk(card["body"])
    return found


async def test_walking_the_finder_over_http_ends_with_recommendations(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    _, messages = await running_bot.send(user.presses({"action": "finder"}))
    assert "Wat is je rol?" in texts(cards(messages)[0])
    for answer in ("afdelingsmanager", "assertiviteit-weerbaarheid", "dilemma"):
        await running_bot.send(user.presses({"finder": answer}))
    _, messages = await running_bot.send(user.presses({"finder": "een_op_een"}))
    (result,) = cards(messages)
    assert texts(result)[0] == "Dit past bij jou"
    assert "Pilot voor leidinggevenden met een vraag of dilemma" in texts(result)
    apply = [b for b in buttons(result) if b["title"] == "Aanmelden bij Bureau I&D"]
    assert apply and apply[0]["data"] == {"action": "apply", "offer": "coaching-pilot"}
    _, messages = await running_bot.send(user.presses(apply[0]["data"]))
    assert "kan nog niet" in " ".join(texts(cards(messages)[0]))


async def test_the_finder_state_survives_between_turns_in_sql(running_bot: RunningBot) -> None:
    user = running_bot.user()
    other = running_bot.user()
    await running_bot.send(user.presses({"action": "finder"}))
    await running_bot.send(other.presses({"action": "finder"}))
    _, messages = await running_bot.send(user.presses({"finder": "teammanager"}))
    assert "Over welk onderwerp gaat je vraag?" in texts(cards(messages)[0])
    _, messages = await running_bot.send(other.says("menu"))
    assert texts(cards(messages)[0])[0] == "Waar kan ik je mee helpen?"


async def test_a_free_question_gets_three_answers_with_a_reason_each(
    running_bot: RunningBot,
) -> None:
    question = "mijn team maakt grapjes over afkomst, wat kan ik doen?"
    _, messages = await running_bot.send(running_bot.user().says(question))
    (answer,) = cards(messages)
    assert texts(answer)[0] == "Dit vond ik bij je vraag"
    reasons = [t for t in texts(answer) if t.startswith("Waarom dit past:")]
    assert len(reasons) == 3
    more = [b for b in buttons(answer) if b["data"].get("action") == "item"]
    assert more[0]["data"]["id"] == "grapjes-en-opmerkingen"
    _, messages = await running_bot.send(running_bot.user().presses(more[0]["data"]))
    assert texts(cards(messages)[0])[0] == "In mijn team worden grapjes gemaakt over afkomst"


async def test_an_off_topic_question_is_offered_to_the_bureau(running_bot: RunningBot) -> None:
    _, messages = await running_bot.send(running_bot.user().says("wanneer is de kerstborrel"))
    (card,) = cards(messages)
    assert texts(card)[0] == "Daar heb ik geen goed antwoord op"
    assert {"action": "help_request", "kind": "question"} in [b["data"] for b in buttons(card)]


async def test_an_unknown_item_gets_an_answer_and_the_menu(running_bot: RunningBot) -> None:
    _, messages = await running_bot.send(running_bot.user().presses({"action": "item", "id": 7}))
    assert "kan ik niet" in messages[0]["text"]


async def test_the_wethouder_offer_says_signing_up_works_in_this_chat(
    running_bot: RunningBot,
) -> None:
    """Signing up for dated conversations is a flow in the bot: the card says so, not 'not yet'."""
    user = running_bot.user()
    _, messages = await running_bot.send(
        user.presses({"action": "item", "id": "wethoudersgesprekken"})
    )
    (card,) = cards(messages)
    shown = json.dumps(card, ensure_ascii=False)
    assert "meld je aan in deze chat" in shown
    assert "kan nog niet" not in shown
    (signup,) = [b for b in buttons(card) if b.get("data", {}).get("action") == "signup"]
    assert signup["title"] == "Gesprekken en aanmelden"
    _, messages = await running_bot.send(user.presses(signup["data"]))
    assert texts(cards(messages)[0])[0] == "Gesprekken met de wethouder"


def everything_said(message: dict[str, Any]) -> str:
    """All a client may show or read of one message: its text, summary and every card string."""
    parts = [str(message.get(key) or "") for key in ("text", "summary", "speak")]
    for attachment in message.get("attachments", []):
        parts.append(json.dumps(attachment.get("content", {}), ensure_ascii=False))
    return "\n".join(parts)


async def test_a_finder_question_is_said_once_per_message(running_bot: RunningBot) -> None:
    """The question is the choices' label; the summary (the card's aria-label in Teams' renderer,
    and the notification) names the step, so neither eye nor screen reader gets it twice."""
    user = running_bot.user()
    _, first = await running_bot.send(user.presses({"action": "finder"}))
    _, retry = await running_bot.send(user.says("geen idee eigenlijk"))
    for messages in (first, retry):
        (message,) = messages
        said = everything_said(message)
        assert said.count("Wat is je rol?") == 1, said
        assert message["summary"] == "Vraag 1 van 4"


async def test_an_items_related_pages_are_a_button_each_on_a_row_of_their_own(
    running_bot: RunningBot,
) -> None:
    """Their titles are long: side by side in the action bar, Teams cut them to a few words."""
    user = running_bot.user()
    _, messages = await running_bot.send(
        user.presses({"action": "item", "id": "moeilijk-gesprek-voeren"})
    )
    (card,) = cards(messages)
    assert [a["data"] for a in card["actions"]] == [{"action": "menu"}]
    assert "Lees ook" in texts(card)
    rows = [e["actions"] for e in card["body"] if e["type"] == "ActionSet"]
    related = [row[0] for row in rows if row[0]["data"].get("action") == "item"]
    assert len(related) >= 3 and all(len(row) == 1 for row in rows)
    _, messages = await running_bot.send(user.presses(related[0]["data"]))
    assert texts(cards(messages)[0])[0] == related[0]["title"]


async def test_a_whole_page_shows_its_sources_and_what_is_still_to_confirm(
    running_bot: RunningBot,
) -> None:
    user = running_bot.user()
    _, messages = await running_bot.send(
        user.presses({"action": "item", "id": "vertrouwenspersoon"})
    )
    shown = texts(cards(messages)[0])
    assert any(line.startswith("Bron: ") for line in shown)
    assert "Een deel hiervan moet Bureau I&D nog bevestigen." in shown
