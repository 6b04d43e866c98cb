"""The guided finder, driven turn by turn with DialogTestClient and the real toolkit."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient

from content.loader import Catalog, load_catalog
from dialogs.finder import FinderDialog
from dialogs.replies import Replies


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def press(**data: Any) -> Activity:
    return Activity(type=ActivityTypes.message, value=data)


def body_texts(activity: Activity) -> list[str]:
    texts: list[str] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element["type"] == "TextBlock":
                texts.append(element["text"])
            elif "label" in element:  # a question is the label of its input, said once
                texts.append(element["label"])
            walk(element.get("items", []))

    walk(activity.attachments[0].content["body"])
    return texts


def choice_values(activity: Activity) -> list[str]:
    inputs = [e for e in activity.attachments[0].content["body"] if e["type"] == "Input.ChoiceSet"]
    return [choice["value"] for choice in inputs[0]["choices"]]


async def walk(client: DialogTestClient, *answers: Any) -> Activity:
    reply = await client.send_activity(press(action="finder"))
    for answer in answers:
        reply = await client.send_activity(
            answer if isinstance(answer, Activity) else press(finder=answer)
        )
    return reply


async def test_finder_asks_four_questions_then_recommends_at_most_three(
    replies: Replies, catalog: Catalog
) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    first = await client.send_activity(press(action="finder"))
    assert "Wat is je rol?" in body_texts(first)
    assert choice_values(first) == [
        "teammanager",
        "afdelingsmanager",
        "directeur",
        "trekker",
        "medewerker",
    ]
    second = await client.send_activity(press(finder="teammanager", step=1))
    assert set(choice_values(second)) == set(catalog.themes)
    third = await client.send_activity(press(finder="gesprekstechnieken", step=2))
    assert "Wat heb je nu het meest nodig?" in body_texts(third)
    fourth = await client.send_activity(press(finder="teamgesprek", step=3))
    assert "Hoe werk je het liefst?" in body_texts(fourth)
    result = await client.send_activity(press(finder="team", step=4))
    texts = body_texts(result)
    assert texts[0] == "Dit past bij jou"
    assert "Gespreksbegeleider voor een teamgesprek" in texts
    why = [t for t in texts if t.startswith("Waarom dit past")]
    assert 1 <= len(why) <= 3
    assert "Je wilt een gesprek met je team." in why[0]
    assert client.dialog_turn_result.status.name == "Complete"


async def test_director_is_told_the_coaching_pilot_is_not_for_them_and_where_to_go(
    replies: Replies, catalog: Catalog
) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    result = await walk(client, "directeur", "any", "dilemma", "een_op_een")
    texts = body_texts(result)
    assert any(t.startswith("Niet voor jou:") and "pilot" in t.lower() for t in texts)
    assert any("Leiderschapsprogramma voor directeuren" in t for t in texts)
    assert not any(t.startswith("Pilot 1-op-1 coaching") for t in texts)


async def test_trekker_is_pointed_at_the_leergang_first(replies: Replies, catalog: Catalog) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    result = await walk(client, "trekker", "any", "rol", "any")
    offers = [
        t for t in body_texts(result)[1:] if t in {o.title.nl for o in catalog.offers.values()}
    ]
    assert offers[0] == catalog.offers["leergang-trekkers"].title.nl


async def test_typed_number_and_typed_label_are_understood(
    replies: Replies, catalog: Catalog
) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    await client.send_activity(press(action="finder"))
    theme_question = await client.send_activity("1")  # teammanager
    assert "Over welk onderwerp gaat je vraag?" in body_texts(theme_question)
    need_question = await client.send_activity("weet ik niet")
    assert "Wat heb je nu het meest nodig?" in body_texts(need_question)
    format_question = await client.send_activity("Een gesprek met mijn team")
    assert "Hoe werk je het liefst?" in body_texts(format_question)


@pytest.mark.parametrize(
    "bad",
    [
        press(finder="ceo", step=1),
        press(finder="teammanager", step=3),  # a button of another question
        press(finder=["teammanager"]),
        press(unrelated=True),
        Activity(type=ActivityTypes.message, text="99"),
        Activity(type=ActivityTypes.message, text="x" * 5000),
    ],
)
async def test_a_bad_answer_repeats_the_question_with_a_hint_and_changes_nothing(
    replies: Replies, catalog: Catalog, bad: Activity
) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    await client.send_activity(press(action="finder"))
    retry = await client.send_activity(bad)
    texts = body_texts(retry)
    assert texts[0].startswith("Dat antwoord ken ik niet")
    assert "Wat is je rol?" in texts
    # The flow is still at question 1 and goes on normally.
    assert "Over welk onderwerp" in " ".join(
        body_texts(await client.send_activity(press(finder="afdelingsmanager", step=1)))
    )


async def test_role_question_cannot_be_skipped(replies: Replies, catalog: Catalog) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    await client.send_activity(press(action="finder"))
    retry = await client.send_activity(press(finder="any", step=1))
    assert body_texts(retry)[0].startswith("Dat antwoord ken ik niet")


async def test_finder_speaks_english_to_english_users(replies: Replies, catalog: Catalog) -> None:
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, {}))
    start = press(action="finder")
    start.locale = "en-US"
    assert "What is your role?" in body_texts(await client.send_activity(start))


async def test_a_link_offer_gets_its_configured_link_as_button(
    replies: Replies, catalog: Catalog
) -> None:
    links = {"TOOLKIT_ID_URL": "https://example.invalid/toolkit"}
    client = DialogTestClient("msteams", FinderDialog(replies, catalog, links))
    result = await walk(client, "medewerker", "any", "leren", "zelfstudie")
    card = result.attachments[0].content
    assert "https://example.invalid/toolkit" in str(card)
