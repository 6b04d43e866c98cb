"""The offer finder's rules, on small made-up catalogs and on the Bureau's real toolkit."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

from content.loader import Catalog, load_catalog
from content.schema import Access, Exclusion, Format, Need, Offer, Role, Text
from services.matching import (
    FORMAT_WEIGHT,
    NEED_WEIGHT,
    ROLE_ONLY_WEIGHT,
    ROLE_WEIGHT,
    THEME_WEIGHT,
    Answer,
    FinderAnswers,
    Reason,
    recommend,
)

MANAGERS = (Role.TEAMMANAGER, Role.AFDELINGSMANAGER)


def _text(value: str) -> Text:
    return Text(nl=value, en=value)


def make_offer(
    offer_id: str,
    *,
    roles: Sequence[Role] = MANAGERS,
    needs: Sequence[Need] = (Need.LEREN,),
    formats: Sequence[Format] = (Format.GROEP,),
    themes: Sequence[str] = (),
    not_for: Sequence[Exclusion] = (),
) -> Offer:
    return Offer(
        id=offer_id,
        title=_text(offer_id),
        summary=_text(offer_id),
        body=_text(offer_id),
        effort=_text("twee dagdelen"),
        access=Access.INFO,
        roles=list(roles),
        needs=list(needs),
        formats=list(formats),
        themes=list(themes),
        not_for=list(not_for),
        sources=["bureau"],
    )


@dataclass(frozen=True)
class FakeCatalog:
    offers: Mapping[str, Offer]


def catalog_of(*offers: Offer) -> FakeCatalog:
    return FakeCatalog({offer.id: offer for offer in offers})


def ids(catalog: FakeCatalog | Catalog, answers: FinderAnswers, limit: int = 3) -> list[str]:
    return [r.offer.id for r in recommend(catalog, answers, limit=limit).recommendations]


# -- eligibility comes from the content


def test_offer_not_open_to_the_role_is_never_recommended() -> None:
    catalog = catalog_of(make_offer("alleen-managers", roles=MANAGERS))
    answers = FinderAnswers(role=Role.MEDEWERKER, need=Need.LEREN)

    result = recommend(catalog, answers)

    assert result.recommendations == []
    assert result.exclusions == []  # no not_for entry: nothing the bot could explain


def test_not_for_entry_excludes_even_a_listed_role() -> None:
    exclusion = Exclusion(role=Role.TEAMMANAGER, reason=_text("niet voor jou"))
    catalog = catalog_of(make_offer("tegenstrijdig", roles=MANAGERS, not_for=[exclusion]))

    result = recommend(catalog, FinderAnswers(role=Role.TEAMMANAGER, need=Need.LEREN))

    assert result.recommendations == []
    assert [(e.offer.id, e.exclusion) for e in result.exclusions] == [("tegenstrijdig", exclusion)]


def test_excluded_offer_that_fits_the_need_is_reported_with_reason_and_alternative() -> None:
    exclusion = Exclusion(
        role=Role.DIRECTEUR, reason=_text("eigen programma"), instead="programma-directeuren"
    )
    coaching = make_offer("coaching", needs=[Need.DILEMMA], not_for=[exclusion])
    programme = make_offer("programma-directeuren", roles=[Role.DIRECTEUR])
    catalog = catalog_of(coaching, programme)

    result = recommend(catalog, FinderAnswers(role=Role.DIRECTEUR, need=Need.DILEMMA))

    offer, why = result.exclusions[0]
    assert (offer.id, why.instead) == ("coaching", "programma-directeuren")
    assert [r.offer.id for r in result.recommendations] == ["programma-directeuren"]


def test_excluded_offer_that_fits_neither_theme_nor_need_is_not_reported() -> None:
    exclusion = Exclusion(role=Role.DIRECTEUR, reason=_text("eigen programma"))
    catalog = catalog_of(make_offer("coaching", needs=[Need.DILEMMA], not_for=[exclusion]))

    result = recommend(catalog, FinderAnswers(role=Role.DIRECTEUR, need=Need.TEAMGESPREK))

    assert result.exclusions == []


def test_excluded_offer_is_not_reported_when_theme_and_need_were_skipped() -> None:
    # "Not for you" only for an offer the manager's own answers pointed at.
    exclusion = Exclusion(role=Role.DIRECTEUR, reason=_text("eigen programma"))
    catalog = catalog_of(make_offer("coaching", not_for=[exclusion]))

    result = recommend(catalog, FinderAnswers(role=Role.DIRECTEUR, format=Format.EEN_OP_EEN))

    assert result.exclusions == []


def test_excluded_offer_is_reported_when_the_need_asked_for_points_at_it() -> None:
    exclusion = Exclusion(role=Role.DIRECTEUR, reason=_text("eigen programma"))
    catalog = catalog_of(make_offer("coaching", needs=[Need.DILEMMA], not_for=[exclusion]))

    result = recommend(catalog, FinderAnswers(role=Role.DIRECTEUR, need=Need.DILEMMA))

    assert [e.offer.id for e in result.exclusions] == ["coaching"]


# -- ranking


def test_offer_made_only_for_the_role_comes_first() -> None:
    everything = make_offer(
        "past-overal",
        roles=[*MANAGERS, Role.TREKKER],
        needs=[Need.LEREN],
        formats=[Format.GROEP],
        themes=["bewustwording"],
    )
    leergang = make_offer("leergang", roles=[Role.TREKKER], needs=[Need.ROL])
    answers = FinderAnswers(
        role=Role.TREKKER, theme="bewustwording", need=Need.LEREN, format=Format.GROEP
    )

    assert ids(catalog_of(everything, leergang), answers) == ["leergang", "past-overal"]


def test_the_need_outweighs_the_theme() -> None:
    on_theme = make_offer("op-thema", needs=[Need.LEREN], themes=["doorstroom"])
    on_need = make_offer("op-behoefte", needs=[Need.TEAMGESPREK])
    answers = FinderAnswers(role=Role.TEAMMANAGER, theme="doorstroom", need=Need.TEAMGESPREK)

    assert ids(catalog_of(on_theme, on_need), answers) == ["op-behoefte", "op-thema"]


def test_format_alone_does_not_make_an_offer_fit() -> None:
    only_format = make_offer("alleen-vorm", needs=[Need.LEREN], formats=[Format.EEN_OP_EEN])
    answers = FinderAnswers(role=Role.TEAMMANAGER, need=Need.DILEMMA, format=Format.EEN_OP_EEN)

    assert ids(catalog_of(only_format), answers) == []


def test_format_orders_offers_that_fit_equally() -> None:
    group = make_offer("a-groep", needs=[Need.LEREN], formats=[Format.GROEP])
    one_on_one = make_offer("b-een-op-een", needs=[Need.LEREN], formats=[Format.EEN_OP_EEN])
    answers = FinderAnswers(role=Role.TEAMMANAGER, need=Need.LEREN, format=Format.EEN_OP_EEN)

    assert ids(catalog_of(group, one_on_one), answers) == ["b-een-op-een", "a-groep"]


def test_the_offer_made_for_fewer_needs_wins_a_tie() -> None:
    broad = make_offer("a-breed", needs=[Need.LEREN, Need.TEAMGESPREK])
    focused = make_offer("b-gericht", needs=[Need.TEAMGESPREK])
    answers = FinderAnswers(role=Role.TEAMMANAGER, need=Need.TEAMGESPREK)

    assert ids(catalog_of(broad, focused), answers) == ["b-gericht", "a-breed"]


def test_ties_are_ordered_by_id_whatever_the_catalog_order() -> None:
    offers = [make_offer(name) for name in ("c", "a", "b")]
    answers = FinderAnswers(role=Role.TEAMMANAGER, need=Need.LEREN)

    assert ids(catalog_of(*offers), answers) == ["a", "b", "c"]
    assert ids(catalog_of(*reversed(offers)), answers) == ["a", "b", "c"]


def test_skipping_theme_and_need_recommends_every_offer_open_to_the_role() -> None:
    catalog = catalog_of(make_offer("a"), make_offer("b"), make_offer("c", roles=[Role.TREKKER]))

    assert ids(catalog, FinderAnswers(role=Role.AFDELINGSMANAGER)) == ["a", "b"]


def test_limit_caps_the_recommendations_but_not_the_exclusions() -> None:
    exclusion = Exclusion(role=Role.TEAMMANAGER, reason=_text("nee"))
    offers = [make_offer(f"o{n}") for n in range(5)]
    excluded = make_offer("x", roles=[Role.TREKKER], needs=[Need.LEREN], not_for=[exclusion])
    catalog = catalog_of(*offers, excluded)

    result = recommend(catalog, FinderAnswers(role=Role.TEAMMANAGER, need=Need.LEREN), limit=2)

    assert [r.offer.id for r in result.recommendations] == ["o0", "o1"]
    assert [e.offer.id for e in result.exclusions] == ["x"]


def test_unknown_theme_matches_nothing_instead_of_failing() -> None:
    catalog = catalog_of(make_offer("a", themes=["bewustwording"]))

    assert ids(catalog, FinderAnswers(role=Role.TEAMMANAGER, theme="bestaat-niet")) == []


# -- reasons are data for the "why it fits" template


def test_reasons_name_each_matched_answer_in_finder_order() -> None:
    offer = make_offer(
        "alles", needs=[Need.DILEMMA], formats=[Format.EEN_OP_EEN], themes=["doorstroom"]
    )
    answers = FinderAnswers(
        role=Role.TEAMMANAGER, theme="doorstroom", need=Need.DILEMMA, format=Format.EEN_OP_EEN
    )

    (recommendation,) = recommend(catalog_of(offer), answers).recommendations

    assert recommendation.reasons == [
        Reason(Answer.ROLE, "teammanager"),
        Reason(Answer.THEME, "doorstroom"),
        Reason(Answer.NEED, "dilemma"),
        Reason(Answer.FORMAT, "een_op_een"),
    ]
    assert recommendation.score == ROLE_WEIGHT + THEME_WEIGHT + NEED_WEIGHT + FORMAT_WEIGHT


def test_unmatched_answers_give_no_reason() -> None:
    offer = make_offer("a", needs=[Need.LEREN], formats=[Format.GROEP], themes=["doorstroom"])
    answers = FinderAnswers(
        role=Role.TEAMMANAGER, theme="bewustwording", need=Need.LEREN, format=Format.TEAM
    )

    (recommendation,) = recommend(catalog_of(offer), answers).recommendations

    assert [reason.answer for reason in recommendation.reasons] == [Answer.ROLE, Answer.NEED]


def test_role_reason_says_when_an_offer_is_made_for_that_role_alone() -> None:
    leergang = make_offer("leergang", roles=[Role.TREKKER])

    (recommendation,) = recommend(catalog_of(leergang), FinderAnswers(Role.TREKKER)).recommendations

    assert recommendation.reasons == [Reason(Answer.ROLE, "trekker", only_for_this_role=True)]
    assert recommendation.score == ROLE_ONLY_WEIGHT


def test_role_only_weight_outranks_every_other_answer_together() -> None:
    assert ROLE_ONLY_WEIGHT > ROLE_WEIGHT + THEME_WEIGHT + NEED_WEIGHT + FORMAT_WEIGHT


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_recommends_nothing(limit: int) -> None:
    assert ids(catalog_of(make_offer("a")), FinderAnswers(Role.TEAMMANAGER), limit=limit) == []


# -- the Bureau's real toolkit


@pytest.fixture(scope="module")
def toolkit() -> Catalog:
    return load_catalog()


def test_director_is_told_coaching_pilot_is_not_for_them(toolkit: Catalog) -> None:
    answers = FinderAnswers(role=Role.DIRECTEUR, need=Need.DILEMMA, format=Format.EEN_OP_EEN)

    result = recommend(toolkit, answers)

    assert "coaching-pilot" not in [r.offer.id for r in result.recommendations]
    excluded = {offer.id: exclusion for offer, exclusion in result.exclusions}
    assert excluded["coaching-pilot"].role is Role.DIRECTEUR
    assert excluded["coaching-pilot"].instead == "directeuren-leiderschapsprogramma"
    assert result.recommendations[0].offer.id == "directeuren-leiderschapsprogramma"


@pytest.mark.parametrize("need", [None, *Need])
def test_trekker_gets_leergang_first(toolkit: Catalog, need: Need | None) -> None:
    result = recommend(toolkit, FinderAnswers(role=Role.TREKKER, need=need))

    assert result.recommendations[0].offer.id == "leergang-trekkers"
    assert result.recommendations[0].reasons[0].only_for_this_role


def test_trekker_asking_for_coaching_is_sent_to_the_leergang(toolkit: Catalog) -> None:
    answers = FinderAnswers(role=Role.TREKKER, need=Need.DILEMMA, format=Format.EEN_OP_EEN)

    result = recommend(toolkit, answers)

    assert {o.id: e.instead for o, e in result.exclusions}["coaching-pilot"] == "leergang-trekkers"


def test_team_conversation_need_recommends_gespreksbegeleider(toolkit: Catalog) -> None:
    answers = FinderAnswers(role=Role.TEAMMANAGER, need=Need.TEAMGESPREK)

    (first, *_) = recommend(toolkit, answers).recommendations

    assert first.offer.id == "gespreksbegeleider"
    assert Reason(Answer.NEED, "teamgesprek") in first.reasons


def test_manager_with_a_dilemma_one_on_one_is_offered_the_coaching_pilot(
    toolkit: Catalog,
) -> None:
    answers = FinderAnswers(role=Role.AFDELINGSMANAGER, need=Need.DILEMMA, format=Format.EEN_OP_EEN)

    assert "coaching-pilot" in ids(toolkit, answers)


def test_medewerker_is_never_offered_the_coaching_pilot_or_the_training(toolkit: Catalog) -> None:
    answers = FinderAnswers(role=Role.MEDEWERKER, need=Need.LEREN)

    result = recommend(toolkit, answers, limit=10)

    assert {"coaching-pilot", "training-inclusief-leiderschap"}.isdisjoint(
        r.offer.id for r in result.recommendations
    )
    assert {o.id: e.instead for o, e in result.exclusions}["coaching-pilot"] == "toolkit-id"


def test_no_answer_ever_recommends_an_offer_the_role_is_excluded_from(toolkit: Catalog) -> None:
    themes: list[str | None] = [None, *toolkit.themes]
    for role, theme, need, format_ in itertools.product(
        Role, themes, [None, *Need], [None, *Format]
    ):
        result = recommend(toolkit, FinderAnswers(role, theme, need, format_), limit=10)
        for recommendation in result.recommendations:
            offer = recommendation.offer
            assert role in offer.roles, (role, offer.id)
            assert role not in [entry.role for entry in offer.not_for], (role, offer.id)
        assert all(exclusion.role is role for _, exclusion in result.exclusions)
        scores = [r.score for r in result.recommendations]
        assert scores == sorted(scores, reverse=True)


def test_every_instead_in_the_toolkit_is_open_to_the_excluded_role(toolkit: Catalog) -> None:
    for offer in toolkit.offers.values():
        for exclusion in offer.not_for:
            if exclusion.instead in toolkit.offers:
                instead = toolkit.offers[exclusion.instead]
                assert exclusion.role in instead.roles, (offer.id, exclusion.role)
