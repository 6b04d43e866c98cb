"""Triage with the Bureau's real rules and toolkit: safety signals, priority, theme, offers."""

from __future__ import annotations

import random

import pytest

from content.loader import Catalog, load_catalog
from content.schema import Role
from content.search import SearchIndex
from content.triage_rules import Priority, TriageRules, Urgency, load_triage_rules
from services.help_requests import RequestKind
from services.matching import Answer
from services.triage import Triage, _Phrases


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def rules(catalog: Catalog) -> TriageRules:
    return load_triage_rules(known_items={item.id: item for item in catalog.items()})


@pytest.fixture(scope="module")
def triage(catalog: Catalog, rules: TriageRules) -> Triage:
    return Triage(rules=rules, catalog=catalog, search=SearchIndex.build(catalog))


# Phrasings a manager could type, each with the signals the Bureau's rules must find.
MUST_TRIGGER = [
    ("Ik word door een collega gediscrimineerd vanwege mijn afkomst.", {"discriminatie"}),
    ("Een medewerker van mij werd gisteren uitgescholden door een bewoner.", {"discriminatie"}),
    ("Mijn teamleider discrimineert een stagiair, wat moet ik doen?", {"discriminatie"}),
    ("Iemand in mijn team maakt racistische opmerkingen over een collega.", {"discriminatie"}),
    ("Een medewerker wordt al weken bedreigd via WhatsApp.", {"bedreiging"}),
    ("Ik voel me niet veilig in mijn eigen team.", {"onveilig"}),
    ("Een collega voelt zich onveilig sinds het incident.", {"onveilig"}),
    ("Een medewerker geeft aan dat ze gepest wordt.", {"onveilig"}),
    ("Hij is geïntimideerd door een leidinggevende van een andere afdeling.", {"bedreiging"}),
    ("Gisteren is een medewerker op straat geslagen.", {"acuut"}),
    ("Een medewerker praat over zelfmoord. Ik maak me grote zorgen.", {"acuut"}),
    ("Er is een doodsbedreiging binnengekomen voor een collega.", {"acuut"}),
    # Two sentences: the second is general, the first still counts.
    ("Ik word gepest. Ik wil ook een training weerbaarheid.", {"onveilig"}),
    ("Ik word gepest en wil graag een training weerbaarheid volgen.", {"onveilig"}),
    ("I am being harassed by a colleague.", {"bedreiging"}),
    ("An employee feels unsafe in our team.", {"onveilig"}),
]

# Everyday questions about the same subjects that must not raise the alarm.
MUST_NOT_TRIGGER = [
    "Ik wil met mijn team praten over discriminatie.",
    "Hoe voorkom ik dat iemand zich onveilig voelt in mijn team?",
    "Hoe zorg ik dat iedereen zich veilig voelt?",
    "Wij zoeken een training over racisme en uitsluiting.",
    "Stel dat een medewerker gediscrimineerd wordt, wat doe ik dan?",
    "Wat als iemand zich bedreigd voelt door een bewoner?",
    "Hoe maak ik bedreigingen door bewoners bespreekbaar in het team?",
    "Ik zoek een workshop over geweld tegen handhavers.",
    "Ik wil graag een gespreksbegeleider voor een teamgesprek over inclusie.",
    "Hoe werf ik meer divers talent voor mijn afdeling?",
    "Ik ben niet gediscrimineerd, maar ik wil weten hoe ik collega's steun.",
    "Sociale veiligheid staat bij ons op de agenda. Hoe pak ik dat aan?",
    "Hoe ga ik om met weerstand tegen het actieplan?",
    "Niemand voelt zich hier onveilig, maar ik wil het toch bespreken.",
    "How do I prevent people from feeling unsafe?",
]


@pytest.mark.parametrize(("text", "expected"), MUST_TRIGGER)
def test_safety_signals_fire_on_real_phrasings(
    triage: Triage, text: str, expected: set[str]
) -> None:
    assert {signal.id for signal in triage.signals(text)} == expected


@pytest.mark.parametrize("text", MUST_NOT_TRIGGER)
def test_safety_signals_stay_quiet_on_general_questions(triage: Triage, text: str) -> None:
    assert triage.signals(text) == ()


def test_a_safety_signal_gives_the_highest_priority_whatever_the_urgency(
    triage: Triage,
) -> None:
    result = triage.triage(
        kind=RequestKind.QUESTION,
        text="Een medewerker wordt bedreigd door een collega.",
        role=Role.TEAMMANAGER,
        urgency=Urgency.GEEN_HAAST,
    )

    assert result.priority is Priority.SPOED
    assert result.needs_safety_route
    # Someone is in it now: the confidential counsellor is among the offers.
    assert "vertrouwenspersoon" in [s.offer.id for s in result.suggestions]


@pytest.mark.parametrize(
    ("urgency", "priority"),
    [
        (Urgency.DEZE_WEEK, Priority.HOOG),
        (Urgency.DEZE_MAAND, Priority.NORMAAL),
        (Urgency.GEEN_HAAST, Priority.LAAG),
    ],
)
def test_without_signals_the_priority_follows_the_urgency(
    triage: Triage, urgency: Urgency, priority: Priority
) -> None:
    result = triage.triage(
        kind=RequestKind.QUESTION,
        text="Hoe ga ik om met weerstand tegen inclusie in mijn team?",
        role=Role.TEAMMANAGER,
        urgency=urgency,
    )
    assert (result.priority, result.signals) == (priority, ())


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        (
            "Mijn team vindt al dat gedoe over diversiteit onzin, hoe krijg ik draagvlak?",
            "weerstand-draagvlak",
        ),
        ("Hoe schrijf ik een vacaturetekst die meer kandidaten aanspreekt?", "inclusief-werven"),
        ("Medewerkers met een migratieachtergrond krijgen minder vaak promotie.", "doorstroom"),
        ("Ik wil leren hoe ik een moeilijk gesprek voer met een medewerker.", "gesprekstechnieken"),
    ],
)
def test_the_theme_comes_from_what_the_text_is_about(triage: Triage, text: str, theme: str) -> None:
    assert triage.theme(text) == theme


def test_the_requesters_theme_wins_over_the_text(triage: Triage) -> None:
    result = triage.triage(
        kind=RequestKind.QUESTION,
        text="Hoe schrijf ik een betere vacaturetekst?",
        role=Role.TEAMMANAGER,
        urgency=Urgency.DEZE_MAAND,
        theme="bewustwording",
    )
    assert result.theme == "bewustwording"


def test_a_text_about_nothing_in_the_toolkit_has_no_theme(triage: Triage) -> None:
    assert triage.theme("De printer op de derde verdieping doet het niet.") is None


def test_a_gespreksbegeleider_request_suggests_the_facilitator_first_with_reasons(
    triage: Triage,
) -> None:
    result = triage.triage(
        kind=RequestKind.GESPREKSBEGELEIDER,
        text="Ik wil met mijn team praten over polarisatie na de verkiezingen.",
        role=Role.AFDELINGSMANAGER,
        urgency=Urgency.DEZE_MAAND,
    )

    assert 1 <= len(result.suggestions) <= 3
    first = result.suggestions[0]
    assert first.offer.id == "gespreksbegeleider"
    assert Answer.NEED in [reason.answer for reason in first.reasons]


def test_suggestions_never_include_offers_not_for_the_role(triage: Triage) -> None:
    result = triage.triage(
        kind=RequestKind.QUESTION,
        text="Ik wil sparren met een coach over mijn rol.",
        role=Role.DIRECTEUR,
        urgency=Urgency.DEZE_MAAND,
    )
    # The coaching pilot is not for directors (seed 001); triage must not suggest it.
    assert "coaching-pilot" not in [s.offer.id for s in result.suggestions]


def _occurs_word_by_word(phrase: str, tokens: list[str]) -> bool:
    """The phrase rule spelled out: consecutive words, `word*` matching any ending."""
    parts = [(part.rstrip("*"), part.endswith("*")) for part in phrase.split()]
    return any(
        all(
            tokens[start + offset].startswith(word) if prefix else tokens[start + offset] == word
            for offset, (word, prefix) in enumerate(parts)
        )
        for start in range(len(tokens) - len(parts) + 1)
    )


def test_phrases_match_exactly_where_the_rule_says_word_by_word(rules: TriageRules) -> None:
    """Every phrase of the Bureau's rules, against sentences made of its own words, endings
    added and words cut short: the one expression per list finds what the rule's words say."""
    phrases = [*rules.general, *(p for rule in rules.signals for p in (*rule.when, *rule.unless))]
    vocabulary = sorted({part.rstrip("*") for phrase in phrases for part in phrase.split()})
    variants = [
        *vocabulary,
        *(word + "en" for word in vocabulary),
        *(word[:-1] for word in vocabulary if len(word) > 2),
        "ik",
        "een",
        "team",
    ]
    randomness = random.Random(14)
    checked = fired = 0
    for phrase in phrases:
        one = _Phrases([phrase])
        for _ in range(40):
            tokens = randomness.choices(variants, k=randomness.randint(1, 8))
            if randomness.random() < 0.5:  # the phrase itself, maybe with endings, in the middle
                spoken = [
                    part.rstrip("*") + ("ing" if part.endswith("*") else "")
                    for part in phrase.split()
                ]
                at = randomness.randint(0, len(tokens))
                tokens[at:at] = spoken
            expected = _occurs_word_by_word(phrase, tokens)
            assert one.occur_in(" ".join(tokens)) is expected, (phrase, tokens)
            checked += 1
            fired += expected
    assert checked > 1000 and 0 < fired < checked  # both outcomes were tried, many times


def test_no_phrases_never_occur() -> None:
    assert not _Phrases([]).occur_in("ik word gepest")
