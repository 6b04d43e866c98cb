"""Say only what is true and never leave a manager at a dead end: issue 13, over /api/messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from content.verbs import VERB_FIELD, Verb
from tests.web.conftest import RunningBot, start_bot
from tests.web.test_messages import cards
from tests.web.test_offers import buttons, texts

# One bot (and one event loop) for the module: each test talks as its own new user.
pytestmark = pytest.mark.asyncio(loop_scope="module")

EMAIL = "inclusie@example.invalid"
PAGE = "https://intranet.example.invalid/bureau-id"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    """A bot with the Bureau's contact filled in."""
    async for running in start_bot(
        tmp_path_factory.mktemp("bot"),
        LocalConnector(),
        BUREAU_CONTACT_EMAIL=EMAIL,
        BUREAU_CONTACT_URL=PAGE,
    ):
        yield running


def all_texts(messages: list[dict[str, Any]]) -> list[str]:
    found = [m["text"] for m in messages if m.get("text")]
    for card in cards(messages):
        found += texts(card)  # with the label of a question's input
    return found


def all_buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for card in cards(messages) for b in buttons(card)]


def verbs(messages: list[dict[str, Any]]) -> set[str]:
    return {b["data"].get(VERB_FIELD) for b in all_buttons(messages) if "data" in b}


def offers_a_next_step(messages: list[dict[str, Any]]) -> bool:
    """The last message of a reply has a button to the menu, the finder or the Bureau."""
    last = cards(messages[-1:])
    next_steps = {Verb.MENU.value, Verb.FINDER.value, Verb.CONTACT.value, Verb.HELP_REQUEST.value}
    return bool(last) and bool(next_steps & verbs(messages[-1:]))


async def finder_at_role(running_bot: RunningBot, user: TeamsUser) -> None:
    await running_bot.send(user.presses({VERB_FIELD: Verb.FINDER}))


# -- the Bureau's contact, where a flow is not there yet


@pytest.mark.parametrize("verb", [Verb.APPLY, Verb.SIGNUP])
async def test_a_flow_that_is_not_there_yet_says_how_to_reach_the_bureau(
    bot: RunningBot, verb: Verb
) -> None:
    _, messages = await bot.send(bot.user().presses({VERB_FIELD: verb, "offer": "x"}))
    said = " ".join(all_texts(messages))
    assert "kan nog niet" in said
    assert f"Mail naar {EMAIL}" in said
    urls = {b.get("url") for b in all_buttons(messages)}
    assert {f"mailto:{EMAIL}", PAGE} <= urls
    assert offers_a_next_step(messages)


@pytest.mark.parametrize(
    "question", ["hoe bereik ik het Bureau?", "wat is het mailadres", "Wat is het e-mailadres?"]
)
async def test_asking_how_to_reach_the_bureau_gets_its_contact(
    bot: RunningBot, question: str
) -> None:
    _, messages = await bot.send(bot.user().says(question))
    (card,) = cards(messages)
    assert "Zo bereik je Bureau I&D" in texts(card)
    assert f"Mail naar {EMAIL}, of kijk op de pagina van het Bureau." in texts(card)


async def test_an_empty_contact_setting_is_left_out_without_a_gap(tmp_path: Path) -> None:
    async for running in start_bot(tmp_path, LocalConnector()):
        _, messages = await running.send(running.user().says("hoe bereik ik het bureau"))
        (card,) = cards(messages)
        said = " ".join(texts(card))
        assert "Mail naar" not in said and "@" not in said
        assert "Vraag je eigen leidinggevende" in said
        assert not [b for b in buttons(card) if "url" in b]
        assert offers_a_next_step(messages)


async def test_only_the_email_shows_only_the_mail_button(tmp_path: Path) -> None:
    async for running in start_bot(tmp_path, LocalConnector(), BUREAU_CONTACT_EMAIL=EMAIL):
        _, messages = await running.send(running.user().says("mailadres"))
        (card,) = cards(messages)
        assert f"Mail naar {EMAIL}." in texts(card)
        assert [b["url"] for b in buttons(card) if "url" in b] == [f"mailto:{EMAIL}"]


async def test_welcome_and_menu_promise_no_flow_that_does_not_exist(bot: RunningBot) -> None:
    user = bot.user()
    _, welcome = await bot.send(user.install())
    _, menu = await bot.send(user.says("menu"))
    titles = [b["title"] for b in all_buttons(welcome + menu)]
    said = " ".join(all_texts(welcome) + all_texts(menu) + titles).lower()
    assert "hulp vragen via deze bot kan nog niet" not in said
    assert "solliciteren" not in said and "coachingpilot" not in said
    assert "vraag aan het bureau" in said  # a flow that exists now


# -- no dead ends


@pytest.mark.parametrize(
    "text", ["mijn team maakt grapjes over afkomst", "wanneer is de kerstborrel", "stop", "hoi"]
)
async def test_every_reply_that_ends_a_path_offers_a_next_step(bot: RunningBot, text: str) -> None:
    _, messages = await bot.send(bot.user().says(text))
    assert offers_a_next_step(messages)


async def test_stop_when_nothing_runs_says_so_and_shows_the_menu(bot: RunningBot) -> None:
    _, messages = await bot.send(bot.user().says("stop"))
    assert messages[0]["text"].startswith("Er loopt nu niets")
    assert texts(cards(messages)[0])[0] == "Waar kan ik je mee helpen?"


async def test_stop_in_the_finder_stops_it_and_shows_the_menu(bot: RunningBot) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    _, messages = await bot.send(user.says("stop"))
    assert messages[0]["text"].startswith("Oké, ik ben gestopt")
    assert texts(cards(messages)[0])[0] == "Waar kan ik je mee helpen?"
    # The finder is gone: the next message is a free question again.
    _, messages = await bot.send(user.says("hoi"))
    assert "Hoi!" in messages[0]["text"]


# -- typed text at a finder question


@pytest.mark.parametrize(
    "typed", ["teamleider", "Teamleider.", "ik ben teamleider", "1", "tm", "  TEAMMANAGER "]
)
async def test_a_typed_choice_word_synonym_or_number_answers_the_question(
    bot: RunningBot, typed: str
) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    _, messages = await bot.send(user.says(typed))
    assert "Over welk onderwerp gaat je vraag?" in all_texts(messages)


async def test_a_typed_need_in_own_words_is_understood(bot: RunningBot) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    await bot.send(user.says("afdelingshoofd"))
    await bot.send(user.says("weet ik niet"))
    _, messages = await bot.send(user.says("lastige situatie"))
    assert "Hoe werk je het liefst?" in all_texts(messages)


@pytest.mark.parametrize(
    ("locale", "typed", "next_question"),
    [
        ("nl-NL", "geen idee", "Wat heb je nu het meest nodig?"),
        ("nl-NL", "Ik weet het niet.", "Wat heb je nu het meest nodig?"),
        ("nl-NL", "maakt niet uit", "Wat heb je nu het meest nodig?"),
        ("en-US", "don't know", "What do you need most right now?"),
        ("en-US", "not sure", "What do you need most right now?"),
    ],
)
async def test_saying_you_do_not_know_in_other_words_skips_the_question(
    bot: RunningBot, locale: str, typed: str, next_question: str
) -> None:
    # Only the button's own words ("Weet ik niet") were understood; "geen idee" got the retry.
    user = bot.user(locale=locale)
    await finder_at_role(bot, user)
    await bot.send(user.says("1"))
    _, messages = await bot.send(user.says(typed))
    assert next_question in all_texts(messages)


async def test_not_knowing_ones_role_is_no_answer_to_the_first_question(bot: RunningBot) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    _, messages = await bot.send(user.says("geen idee"))
    assert "Vraag 1 van 4" in all_texts(messages)


@pytest.mark.parametrize("typed", ["²", "9" * 5000, "0", "99", "1.5", "١", "x" * 5000])
async def test_a_strange_number_at_a_finder_question_gets_the_retry_not_an_error(
    bot: RunningBot, typed: str
) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    status, messages = await bot.send(user.says(typed))
    assert status < 300
    said = " ".join(all_texts(messages))
    assert "Dat antwoord ken ik niet" in said
    assert "'menu'" in said and "'stop'" in said
    assert "Sorry, er ging iets mis" not in said
    # Nothing changed: the role question still takes an answer.
    _, messages = await bot.send(user.says("2"))
    assert "Over welk onderwerp gaat je vraag?" in all_texts(messages)


async def test_after_a_second_miss_the_text_can_be_asked_as_a_question_or_left(
    bot: RunningBot,
) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    _, first = await bot.send(user.says("hoe voer ik een moeilijk gesprek"))
    assert not [b for b in all_buttons(first) if b.get("data", {}).get(VERB_FIELD) == "ask"]
    _, second = await bot.send(user.says("hoe voer ik een moeilijk gesprek"))
    ask = [b for b in all_buttons(second) if b.get("data", {}).get(VERB_FIELD) == Verb.ASK]
    leave = [b for b in all_buttons(second) if b.get("data", {}).get(VERB_FIELD) == Verb.STOP]
    assert ask and leave
    assert ask[0]["data"]["text"] == "hoe voer ik een moeilijk gesprek"
    _, answer = await bot.send(user.presses(ask[0]["data"]))
    assert texts(cards(answer)[0])[0] == "Dit vond ik bij je vraag"
    # The finder ended: a typed role is now a free question, not an answer.
    _, after = await bot.send(user.says("2"))
    assert "Over welk onderwerp gaat je vraag?" not in all_texts(after)


async def test_leaving_after_a_second_miss_stops_the_finder(bot: RunningBot) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    await bot.send(user.says("blabla"))
    _, second = await bot.send(user.says("blabla"))
    leave = [b for b in all_buttons(second) if b.get("data", {}).get(VERB_FIELD) == Verb.STOP]
    _, messages = await bot.send(user.presses(leave[0]["data"]))
    assert messages[0]["text"].startswith("Oké, ik ben gestopt")
    assert offers_a_next_step(messages)


async def test_a_finder_question_appears_once_and_without_a_typing_hint(
    bot: RunningBot,
) -> None:
    user = bot.user()
    _, messages = await bot.send(user.presses({VERB_FIELD: Verb.FINDER}))
    _, retry = await bot.send(user.says("onzin"))
    for card in cards(messages + retry):
        said = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
        labels = [e["label"] for e in card["body"] if "label" in e]
        assert labels == ["Wat is je rol?"]
        assert "Wat is je rol?" not in said
        assert not any("nummer" in t for t in said + labels)


# -- small talk


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("hoi", "Hoi!"),
        ("dank je", "Graag gedaan"),
        ("ok", "Oké."),
        ("wat kan deze bot?", "Ik ben Wegwijzer I&D"),
        ("Wie ben jij", "Ik ben Wegwijzer I&D"),
        ("hoe gaat het?", "Hoi!"),
        ("Doei", "Tot ziens!"),
        ("tot ziens", "Tot ziens!"),  # it found a page on an employee feeling left out
        ("ok bedankt", "Graag gedaan"),
        ("Ik heb een vraag", "Stel je vraag maar."),  # it said it had no good answer
        ("Kun je me helpen?", "Stel je vraag maar."),
    ],
)
async def test_small_talk_gets_a_short_friendly_answer_from_content(
    bot: RunningBot, text: str, start: str
) -> None:
    _, messages = await bot.send(bot.user().says(text))
    assert messages[0]["text"].startswith(start)
    assert "geen goed antwoord" not in " ".join(all_texts(messages))


@pytest.mark.parametrize(
    ("locale", "typed", "shows"),
    [
        ("nl-NL", "Aanbod vinden", "Vraag 1 van 4"),
        ("en-US", "Find support", "Question 1 of 4"),
        ("nl-NL", "Vraag aan het Bureau", "Stap 1 van 5"),
        ("en-US", "Ask the Bureau", "Step 1 of 5"),
        ("nl-NL", "Pilot bij een dilemma", "Pilot voor leidinggevenden met een vraag of dilemma"),
        ("en-US", "Pilot for a dilemma", "Pilot for managers with a question or dilemma"),
        ("nl-NL", "Mijn gegevens", "Ik bewaar wat nodig is om je te antwoorden"),
        ("nl-NL", "verwijder mijn gegevens", "wil je iets laten verwijderen?"),
        ("en-US", "My data", "I store what I need to answer you"),
        ("nl-NL", "Uitleg over deze bot", "Zo werk ik"),
        ("en-US", "How this bot works", "How I work"),
    ],
)
async def test_a_menu_buttons_title_typed_does_what_the_button_does(
    bot: RunningBot, locale: str, typed: str, shows: str
) -> None:
    # The welcome points at 'Mijn gegevens' by name; a title typed got "Daar heb ik geen goed
    # antwoord op" or an unrelated page.
    _, messages = await bot.send(bot.user(locale=locale).says(typed))
    said = " ".join(all_texts(messages))
    assert shows in said
    assert "geen goed antwoord" not in said and "no good answer" not in said


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("bye", "Goodbye!"),
        ("how are you", "Hi!"),
        ("ok thanks", "You're welcome"),
        ("I have a question", "Go ahead and ask."),
    ],
)
async def test_small_talk_in_english_gets_its_answer_in_english(
    bot: RunningBot, text: str, start: str
) -> None:
    _, messages = await bot.send(bot.user(locale="en-US").says(text))
    assert messages[0]["text"].startswith(start)
    assert "no good answer" not in " ".join(all_texts(messages))


@pytest.mark.parametrize("typed", ["mneu", "Menuu", "hulpp", "menu please", "terug naar het menu"])
async def test_a_typo_of_menu_or_a_longer_way_to_ask_shows_the_menu(
    bot: RunningBot, typed: str
) -> None:
    _, messages = await bot.send(bot.user().says(typed))
    assert all_texts(messages)[0] == "Waar kan ik je mee helpen?"


async def test_a_typo_of_stop_stops_the_finder(bot: RunningBot) -> None:
    user = bot.user()
    await finder_at_role(bot, user)
    _, messages = await bot.send(user.says("stpo"))
    assert "gestopt" in " ".join(all_texts(messages))


# -- Dutch and cards


async def walk_finder(bot: RunningBot, *answers: str) -> list[dict[str, Any]]:
    user = bot.user()
    await bot.send(user.presses({VERB_FIELD: Verb.FINDER}))
    messages: list[dict[str, Any]] = []
    for step, answer in enumerate(answers, 1):
        _, messages = await bot.send(user.presses({"finder": answer, "step": step}))
    return messages


async def test_finder_reasons_are_sentences_in_the_je_form_with_proper_capitals(
    bot: RunningBot,
) -> None:
    messages = await walk_finder(bot, "trekker", "trekkersrol", "rol", "een_op_een")
    why = [t for t in all_texts(messages) if t.startswith("Waarom dit past:")]
    assert why
    assert "Je bent trekker van het actieplan I&D." in " ".join(why) or (
        "Dit is speciaal voor jouw rol." in " ".join(why)
    )
    for line in why:
        sentences = line.removeprefix("Waarom dit past: ").split(". ")
        assert all(s[:1].isupper() for s in sentences), line
        assert "i&d" not in line and "eén" not in line


async def test_a_search_reason_names_only_keywords_themes_or_synonyms(bot: RunningBot) -> None:
    question = "ik heb echt hulp nodig, deal met grapjes over afkomst in mijn team"
    _, messages = await bot.send(bot.user().says(question))
    why = [t for t in all_texts(messages) if t.startswith("Waarom dit past")]
    assert why
    for line in why:
        assert "'nodig'" not in line and "'deal'" not in line and "'hulp'" not in line


async def test_the_pilot_says_aanmelden_and_its_places_once(bot: RunningBot) -> None:
    messages = await walk_finder(bot, "teammanager", "any", "dilemma", "een_op_een")
    card = cards(messages)[0]
    titles = [b["title"] for b in buttons(card)]
    assert "Solliciteren" not in titles
    assert "Aanmelden bij Bureau I&D" in titles
    facts = {
        f["title"]: f["value"]
        for block in card["body"]
        for element in block.get("items", [])
        if element["type"] == "FactSet"
        for f in element["facts"]
    }
    assert facts["Aantal plekken"] == "10"
    assert "plaatsen" not in " ".join(facts.values())


async def test_the_wethouder_conversation_is_not_offered_for_acute_help(
    bot: RunningBot,
) -> None:
    for role in ("teammanager", "afdelingsmanager", "directeur", "trekker", "medewerker"):
        messages = await walk_finder(bot, role, "any", "dilemma", "any")
        assert "Gesprek met de wethouder" not in all_texts(messages), role


async def test_not_for_you_only_when_the_answers_made_the_offer_relevant(
    bot: RunningBot,
) -> None:
    skipped = await walk_finder(bot, "directeur", "any", "any", "any")
    assert not [t for t in all_texts(skipped) if t.startswith("Niet voor jou")]
    asked = await walk_finder(bot, "directeur", "any", "dilemma", "een_op_een")
    assert [t for t in all_texts(asked) if t.startswith("Niet voor jou")]


async def test_a_link_button_appears_only_when_its_link_is_configured(tmp_path: Path) -> None:
    async for running in start_bot(tmp_path, LocalConnector()):
        messages = await walk_finder(running, "medewerker", "any", "leren", "zelfstudie")
        card = cards(messages)[0]
        assert not [b for b in buttons(card) if "url" in b]
        assert Verb.LINK_MISSING.value not in verbs(messages)
        assert any("Vraag Bureau I&D waar je dit vindt" in str(f) for f in card["body"])
    link = "https://example.invalid/toolkit"
    async for running in start_bot(tmp_path / "b", LocalConnector(), TOOLKIT_ID_URL=link):
        messages = await walk_finder(running, "medewerker", "any", "leren", "zelfstudie")
        assert link in [b.get("url") for b in all_buttons(messages)]


@pytest.mark.parametrize("role", ["teammanager", "afdelingsmanager", "directeur", "trekker"])
@pytest.mark.parametrize("need", ["dilemma", "leren", "teamgesprek", "rol"])
async def test_a_result_card_has_no_duplicate_buttons(
    bot: RunningBot, role: str, need: str
) -> None:
    messages = await walk_finder(bot, role, "any", need, "any")
    seen = [(b["title"], str(b.get("data") or b.get("url"))) for b in all_buttons(messages)]
    assert len(seen) == len(set(seen)), seen


@pytest.mark.parametrize(
    "question",
    [
        "verlof opnemen kerst",
        "wat voor weer wordt het morgen",
        "mijn laptop is kapot wie kan helpen",
        "laptop is traag en crasht steeds",
        "gaat het regenen als ik naar huis fiets",
    ],
)
async def test_an_off_topic_question_gets_the_honest_no_answer_without_offers(
    bot: RunningBot, question: str
) -> None:
    _, messages = await bot.send(bot.user().says(question))
    (card,) = cards(messages)
    assert texts(card)[0] == "Daar heb ik geen goed antwoord op"
    assert Verb.ITEM.value not in verbs(messages)
    assert offers_a_next_step(messages)


@pytest.mark.parametrize(
    ("locale", "typed", "first"),
    [
        ("nl-NL", "Ik word gediscrimineerd door mijn collega", "Eerst dit"),
        ("en-US", "I am being bullied and harassed by my director", "First this"),
    ],
)
async def test_a_free_question_that_tells_of_discrimination_shows_the_way_to_help_first(
    bot: RunningBot, locale: str, typed: str, first: str
) -> None:
    # Typed as a question, not in the intake, it got the wethouder conversation (in English
    # the trekker's role) as the best answer, and no word of the counsellor.
    _, messages = await bot.send(bot.user(locale=locale).says(typed))
    safety, *rest = cards(messages)
    assert texts(safety)[0] == first
    counsellor = "Vertrouwenspersoon en melden" if locale == "nl-NL" else "Confidential counsellor"
    assert any(line.startswith(counsellor) for line in texts(safety))
    assert rest  # the answers (or the honest 'no good answer') follow, with their next steps
    assert offers_a_next_step(messages)


async def test_an_ordinary_question_gets_no_safety_route(bot: RunningBot) -> None:
    _, messages = await bot.send(bot.user().says("Hoe begin ik een gesprek over inclusie?"))
    assert "Eerst dit" not in " ".join(all_texts(messages))
