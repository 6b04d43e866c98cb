"""The search on the real toolkit, measured with the evaluation set of manager questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.loader import Catalog, load_catalog
from content.search import SearchIndex
from content.search_bench import TARGET_RECALL, EvalQuestion, evaluate, load_eval_set, unknown_ids

EVAL_SET = Path(__file__).with_name("eval_questions.yaml")
HOLDOUT_SET = Path(__file__).with_name("eval_holdout.yaml")


@pytest.fixture(scope="module")
def toolkit() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def index(toolkit: Catalog) -> SearchIndex:
    return SearchIndex.build(toolkit)


@pytest.fixture(scope="module")
def questions() -> list[EvalQuestion]:
    return load_eval_set(EVAL_SET)


def test_eval_set_has_55_questions_and_off_topic_ones(questions: list[EvalQuestion]) -> None:
    # Issue 13 added ten typed the way managers type, and five off-topic ones.
    assert sum(not q.off_topic for q in questions) >= 55
    assert sum(q.off_topic for q in questions) >= 11
    assert len({q.id for q in questions}) == len(questions)
    off_topic = " ".join(q.q for q in questions if q.off_topic)
    assert all(word in off_topic for word in ("verlof", "weer", "laptop", "kapot"))
    assert len({q.id for q in questions}) == len(questions)


@pytest.mark.parametrize("path", [EVAL_SET, HOLDOUT_SET], ids=lambda path: path.stem)
def test_eval_sets_expect_only_items_the_toolkit_has(toolkit: Catalog, path: Path) -> None:
    assert unknown_ids(toolkit, load_eval_set(path)) == []


def test_recall_at_3_over_the_eval_set_is_at_least_target(
    index: SearchIndex, questions: list[EvalQuestion]
) -> None:
    evaluation = evaluate(index, questions)

    misses = {o.question.id: o.found for o in evaluation.misses}
    assert evaluation.recall >= TARGET_RECALL, misses


def test_off_topic_questions_get_no_hits(index: SearchIndex, questions: list[EvalQuestion]) -> None:
    evaluation = evaluate(index, questions)

    assert {o.question.id: o.found for o in evaluation.off_topic_hits} == {}


def test_every_item_is_found_by_its_own_dutch_title(toolkit: Catalog, index: SearchIndex) -> None:
    for item in toolkit.items():
        assert item.id in [hit.item.id for hit in index.search(item.title.nl)], item.id


def test_every_item_is_found_by_its_own_english_title(toolkit: Catalog, index: SearchIndex) -> None:
    for item in toolkit.items():
        assert item.id in [hit.item.id for hit in index.search(item.title.en)], item.id


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how do I report discrimination", "melding-discriminatie"),
        ("my team makes jokes about someone's background", "grapjes-en-opmerkingen"),
        ("how do I deal with resistance", "omgaan-met-weerstand"),
    ],
)
def test_english_question_finds_the_item_through_the_english_texts(
    index: SearchIndex, question: str, expected: str
) -> None:
    assert expected in [hit.item.id for hit in index.search(question)]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("1 op 1 coaching", ["één op één", "coaching"]),
        ("ik heb hulp nodig bij grapjes in mijn team", ["grapjes"]),
    ],
)
def test_a_reason_shows_keywords_as_a_manager_wrote_them_never_filler(
    index: SearchIndex, question: str, expected: list[str]
) -> None:
    (first, *_) = index.search(question)
    assert first.matched_terms == expected
