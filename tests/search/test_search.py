"""The toolkit search on a small made-up catalog: Dutch words, synonyms, typos, odd input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from content.schema import Faq, SynonymGroup, Text, Theme, ToolkitItem
from content.search import MAX_QUERY_CHARS, SearchIndex, words


def faq(
    item_id: str, title: str, body: str, *, keywords: Sequence[str] = (), summary: str = ""
) -> Faq:
    return Faq(
        id=item_id,
        title=Text(nl=title, en=title),
        summary=Text(nl=summary or title, en=summary or title),
        body=Text(nl=body, en=body),
        keywords=list(keywords),
        sources=["bureau"],
    )


def theme(item_id: str, title: str, body: str, *, english: str) -> Theme:
    return Theme(
        id=item_id,
        title=Text(nl=title, en=english),
        summary=Text(nl=title, en=english),
        body=Text(nl=body, en=english),
        sources=["bureau"],
    )


@dataclass(frozen=True)
class FakeCatalog:
    toolkit: tuple[ToolkitItem, ...]
    synonyms: tuple[SynonymGroup, ...] = ()

    def items(self) -> tuple[ToolkitItem, ...]:
        return self.toolkit


ITEMS: tuple[ToolkitItem, ...] = (
    faq(
        "grapjes",
        "Grapjes en opmerkingen in je team",
        "Een grap over afkomst of geloof kan kwetsen. Reageer direct en rustig.",
        keywords=["humor", "kwetsende opmerking", "afkomst"],
    ),
    faq(
        "melden",
        "Discriminatie melden",
        "Wie discriminatie ervaart, kan dat melden bij het meldpunt of de vertrouwenspersoon.",
        keywords=["meldpunt", "vertrouwenspersoon"],
    ),
    faq(
        "teamgesprek",
        "Een teamgesprek voeren",
        "Bereid het teamgesprek goed voor.",
        keywords=["gespreksbegeleider"],
    ),
    faq(
        "veiligheid",
        "Sociale veiligheid in je team",
        "Zorg dat iedereen zich durft uit te spreken, ook over fouten.",
    ),
    faq(
        "lang-verhaal",
        "Een lange pagina over van alles",
        "Werving en selectie komt hier ook ter sprake, tussen veel andere onderwerpen door: "
        + "planning, budget, overleg, verslagen, afspraken en nog veel meer tekst. " * 5,
    ),
    faq("werving", "Inclusief werven", "Schrijf een vacature die iedereen aanspreekt."),
    theme(
        "bewustwording",
        "Bewustwording",
        "Ken je eigen vooroordelen.",
        english="Awareness of unconscious bias",
    ),
)
SYNONYMS = (
    SynonymGroup(words=["discriminatie", "racisme"]),
    SynonymGroup(words=["sociale veiligheid", "safe space"]),
)


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build(FakeCatalog(ITEMS, SYNONYMS))


def top(index: SearchIndex, query: str) -> list[str]:
    return [hit.item.id for hit in index.search(query)]


# -- words


def test_words_are_lowercased_without_accents_punctuation_or_emoji() -> None:
    assert words("Ideeën, Collega's?! 😅 Café") == ["ideeen", "collega", "cafe"]


def test_words_keep_i_and_d_together() -> None:
    assert words("Bureau I&D helpt") == ["bureau", "id", "helpt"]


def test_words_drop_links() -> None:
    assert words("zie [de toolkit](https://example.org/toolkit) of https://x.nl") == [
        "zie",
        "de",
        "toolkit",
        "of",
    ]


# -- matching


def test_inflected_form_finds_the_item() -> None:
    index = SearchIndex.build(FakeCatalog(ITEMS))

    assert top(index, "grapjes")[0] == "grapjes"
    assert top(index, "een grap")[0] == "grapjes"


def test_title_match_outranks_a_body_match_in_a_long_page(index: SearchIndex) -> None:
    assert top(index, "werving")[0] == "werving"


def test_synonym_from_the_content_finds_the_item(index: SearchIndex) -> None:
    (hit, *_) = index.search("racisme op het werk")

    assert hit.item.id == "melden"
    assert hit.matched_terms == ["racisme"]


def test_multi_word_synonym_finds_the_item(index: SearchIndex) -> None:
    assert top(index, "tips voor een safe space")[0] == "veiligheid"


def test_without_synonyms_the_synonym_finds_nothing() -> None:
    index = SearchIndex.build(FakeCatalog(ITEMS))

    assert index.search("racisme") == []


def test_a_typo_of_one_letter_finds_the_item(index: SearchIndex) -> None:
    (hit, *_) = index.search("discriminatei")

    assert hit.item.id == "melden"
    assert hit.matched_terms == ["discriminatie"]  # the correction, for the bot's reason line


def test_two_typos_in_a_long_word_find_the_item(index: SearchIndex) -> None:
    assert top(index, "vertrouwnspersoom")[0] == "melden"


def test_english_word_finds_the_item_through_its_english_text(index: SearchIndex) -> None:
    assert top(index, "unconscious bias")[0] == "bewustwording"


def test_part_of_a_compound_finds_the_compound(index: SearchIndex) -> None:
    assert "teamgesprek" in top(index, "begeleider")


def test_matched_terms_are_the_question_words_that_matched(index: SearchIndex) -> None:
    (hit, *_) = index.search("collega maakt grapjes over afkomst")

    assert hit.item.id == "grapjes"
    assert hit.matched_terms == ["grapjes", "afkomst"]


def test_a_repeated_word_counts_once(index: SearchIndex) -> None:
    once = index.search("afkomst")[0].score
    assert index.search("afkomst afkomst afkomst")[0].score == once


def test_same_question_gives_the_same_answer(index: SearchIndex) -> None:
    assert index.search("team") == index.search("team")


def test_limit_caps_the_hits(index: SearchIndex) -> None:
    assert len(index.search("team", limit=1)) <= 1
    assert index.search("team", limit=0) == []


def test_every_hit_scores_at_least_the_threshold(index: SearchIndex) -> None:
    hits = index.search("team grapjes fouten discriminatie werving vacature", limit=10)

    assert hits
    assert all(hit.score >= index.min_score for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


# -- "no good match"


def test_a_word_found_only_in_a_body_does_not_make_a_hit(index: SearchIndex) -> None:
    assert index.search("budget") == []  # only in the body of "lang-verhaal"


def test_a_typo_is_only_corrected_to_a_title_keyword_or_synonym(index: SearchIndex) -> None:
    # "ervaart" is in the body of "melden" only: "ervaarr" must not become it.
    (hit, *_) = index.search("discriminatie ervaarr")

    assert hit.matched_terms == ["discriminatie"]


@pytest.mark.parametrize(
    "query",
    ["", "   ", "😅🙏", "?!", "hoe kan ik dat doen", "wanneer is de kerstborrel", "laptop kapot"],
)
def test_questions_without_a_toolkit_subject_get_no_hits(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_a_very_long_question_is_cut_and_still_answered(index: SearchIndex) -> None:
    question = "collega maakt grapjes over afkomst " + "bla " * 10_000

    assert top(index, question)[0] == "grapjes"


def test_words_beyond_the_cut_are_ignored(index: SearchIndex) -> None:
    question = "x" * MAX_QUERY_CHARS + " grapjes"

    assert index.search(question) == []
