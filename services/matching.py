"""The guided offer finder: which offers fit a manager's answers, and which are not for them.

Eligibility comes from the content, never from code: an offer is for the roles in its `roles`, and
a `not_for` entry names a role it is not for, why, and where that person goes instead.

Scoring: an eligible offer earns the weights below for each answer it matches. A `None` answer
("weet ik niet") matches nothing and excludes nothing. Equal scores go to the offer made for fewer
needs, then by offer id, so the same answers always give the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, Protocol

from content.schema import Exclusion, Format, Need, Offer, Role

# An offer made for the manager's role and no other (the leergang for trekkers, the directors'
# programme) outranks any mix of the other answers (3 + 2 + 1): it was designed for this person.
ROLE_ONLY_WEIGHT = 10
ROLE_WEIGHT = 1  # open to the role among others: it may be shown, it says little about fit
NEED_WEIGHT = 3  # what they need now decides the kind of help (a team talk, a coach, a training)
THEME_WEIGHT = 2  # the subject matters, but most offers cover several themes
FORMAT_WEIGHT = 1  # a preference: it orders offers that fit, it never makes one fit


class Answer(StrEnum):
    """The finder question a reason refers to."""

    ROLE = "role"
    THEME = "theme"
    NEED = "need"
    FORMAT = "format"


@dataclass(frozen=True)
class FinderAnswers:
    """A manager's answers to the finder; None means they did not know or skipped it."""

    role: Role
    theme: str | None = None  # id of a theme in the catalog
    need: Need | None = None
    format: Format | None = None


@dataclass(frozen=True)
class Reason:
    """Why an offer fits: which answer it matched, with the matched value for the template."""

    answer: Answer
    value: str  # the role, theme id, need or format the offer matched
    only_for_this_role: bool = False  # a role reason for an offer made for this role alone


@dataclass(frozen=True)
class Recommendation:
    """An offer to show, with the answers it matched for the "why it fits" line."""

    offer: Offer
    reasons: list[Reason]

    @property
    def score(self) -> int:
        return sum(_weight(reason) for reason in self.reasons)


class ExcludedOffer(NamedTuple):
    """An offer that fits the answers but is not for the manager's role, with the content's why."""

    offer: Offer
    exclusion: Exclusion


@dataclass(frozen=True)
class FinderResult:
    """The finder's answer: offers best first, and fitting offers the role is excluded from."""

    recommendations: list[Recommendation] = field(default_factory=list)
    exclusions: list[ExcludedOffer] = field(default_factory=list)


class OfferCatalog(Protocol):
    """What the finder needs of `content.loader.Catalog`."""

    @property
    def offers(self) -> Mapping[str, Offer]: ...


def recommend(catalog: OfferCatalog, answers: FinderAnswers, *, limit: int = 3) -> FinderResult:
    """Return the best offers for the answers, and the fitting offers the role is excluded from."""
    recommendations: list[Recommendation] = []
    exclusions: list[ExcludedOffer] = []
    for offer_id in sorted(catalog.offers):
        offer = catalog.offers[offer_id]
        exclusion = _exclusion_for(offer, answers.role)
        if exclusion is not None or answers.role not in offer.roles:
            # An offer that is simply not for this role, without a not_for entry, has no reason
            # or alternative to tell the manager, so it is left out silently.
            if exclusion is not None and _answered_for(offer, answers):
                exclusions.append(ExcludedOffer(offer, exclusion))
            continue
        reasons = _reasons(offer, answers)
        only_for_role = reasons[0].only_for_this_role
        if only_for_role or _is_relevant(offer, answers):
            recommendations.append(Recommendation(offer, reasons))
    # Among equals, an offer made for fewer needs is the more focused answer to the one asked.
    recommendations.sort(key=lambda r: (-r.score, len(r.offer.needs)))  # stable: then by id
    return FinderResult(recommendations[: max(limit, 0)], exclusions)


def _exclusion_for(offer: Offer, role: Role) -> Exclusion | None:
    return next((entry for entry in offer.not_for if entry.role == role), None)


def _is_relevant(offer: Offer, answers: FinderAnswers) -> bool:
    """Tell whether an offer fits the theme or need asked for (any offer, if neither was given).

    The format alone never makes an offer relevant: it is how, not what.
    """
    if answers.theme is None and answers.need is None:
        return True
    return answers.theme in offer.themes or answers.need in offer.needs


def _answered_for(offer: Offer, answers: FinderAnswers) -> bool:
    """Tell whether the manager's own answers (a theme or a need, not a skip) point at an offer.

    Only then is "not for you" worth saying: an offer they did not ask about is left out.
    """
    return (answers.theme is not None and answers.theme in offer.themes) or (
        answers.need is not None and answers.need in offer.needs
    )


def _reasons(offer: Offer, answers: FinderAnswers) -> list[Reason]:
    """Return the answers an eligible offer matches, role first, in the finder's order."""
    reasons = [Reason(Answer.ROLE, answers.role.value, only_for_this_role=len(offer.roles) == 1)]
    if answers.theme is not None and answers.theme in offer.themes:
        reasons.append(Reason(Answer.THEME, answers.theme))
    if answers.need is not None and answers.need in offer.needs:
        reasons.append(Reason(Answer.NEED, answers.need.value))
    if answers.format is not None and answers.format in offer.formats:
        reasons.append(Reason(Answer.FORMAT, answers.format.value))
    return reasons


def _weight(reason: Reason) -> int:
    match reason.answer:
        case Answer.ROLE:
            return ROLE_ONLY_WEIGHT if reason.only_for_this_role else ROLE_WEIGHT
        case Answer.THEME:
            return THEME_WEIGHT
        case Answer.NEED:
            return NEED_WEIGHT
        case Answer.FORMAT:
            return FORMAT_WEIGHT
