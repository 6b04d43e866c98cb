"""Triage of a help request: its theme, priority, safety signals and suggested offers.

The rules come from the Bureau's `triage.yaml` (see `content.triage_rules`); the theme from the
toolkit search; the suggested offers from the finder's matcher, each with the reasons it fits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from content.schema import Need, Offer, Role, Theme, ToolkitItem
from content.search import words
from content.triage_rules import Priority, SignalRule, TriageRules, Urgency
from services.help_requests import RequestKind
from services.matching import FinderAnswers, Recommendation, recommend

MAX_SUGGESTIONS = 3
# Search hits that vote on the theme: enough to outvote one odd hit, few enough to stay on topic.
THEME_VOTERS = 5
# A theme page that matches the text is stronger evidence than an offer or FAQ that has the theme.
THEME_PAGE_FACTOR = 2.0
_SENTENCE_END = re.compile(r"[.!?;:\n]+")


class TriageCatalog(Protocol):
    """What triage needs of `content.loader.Catalog`."""

    @property
    def offers(self) -> Mapping[str, Offer]: ...

    @property
    def themes(self) -> Mapping[str, Theme]: ...


class SearchHit(Protocol):
    @property
    def item(self) -> ToolkitItem: ...

    @property
    def score(self) -> float: ...


class TextSearch(Protocol):
    """What triage needs of `content.search.SearchIndex`."""

    def search(self, query: str, *, limit: int = 3) -> Sequence[SearchHit]: ...


@dataclass(frozen=True)
class TriageResult:
    """What triage decided; the Bureau can change the theme and priority later."""

    theme: str | None  # a theme id of the catalog, or None when the text says too little
    priority: Priority
    signals: tuple[SignalRule, ...]  # the safety signals that fired, in the rules' order
    suggestions: tuple[Recommendation, ...]  # up to three offers, best first, with reasons

    @property
    def needs_safety_route(self) -> bool:
        return bool(self.signals)


class _Phrases:
    """Rule phrases, matched against consecutive words; `word*` matches any ending.

    A list's phrases are one regular expression over a sentence's words joined by single
    spaces: the sentence is scanned once per list, not once per phrase and starting word (that
    walk cost more than the rest of a free question's turn).
    """

    def __init__(self, phrases: Sequence[str]) -> None:
        self._pattern = (
            re.compile("|".join(f"(?:{_phrase_pattern(phrase)})" for phrase in phrases))
            if phrases
            else None
        )

    def occur_in(self, sentence: str) -> bool:
        """Whether one of the phrases occurs in `sentence` (words joined by single spaces)."""
        return self._pattern is not None and self._pattern.search(sentence) is not None


def _phrase_pattern(phrase: str) -> str:
    """Whole words only: each part is a word, or a word's start when it ends in `*`."""
    parts = [
        re.escape(part.rstrip("*")) + (r"\S*" if part.endswith("*") else "")
        for part in phrase.split()
    ]
    return r"(?<!\S)" + " ".join(parts) + r"(?!\S)"


class SignalDetector:
    """Finds the safety signals in a text, sentence by sentence, by the Bureau's rules."""

    def __init__(self, rules: TriageRules) -> None:
        self._rules = [
            (rule, _Phrases(rule.when), _Phrases([*rules.general, *rule.unless]))
            for rule in rules.signals
        ]

    def detect(self, text: str) -> tuple[SignalRule, ...]:
        """Return the rules that fire on some sentence of text, in the rules' order."""
        # words() gives lowercase letters and digits only: a space never occurs inside a word.
        sentences = [
            " ".join(tokens) for part in _SENTENCE_END.split(text) if (tokens := words(part))
        ]
        return tuple(
            rule
            for rule, when, unless in self._rules
            if any(
                when.occur_in(sentence) and not unless.occur_in(sentence) for sentence in sentences
            )
        )


class Triage:
    """Triage with one set of rules, one catalog and one search index (build once, share)."""

    def __init__(self, *, rules: TriageRules, catalog: TriageCatalog, search: TextSearch) -> None:
        self._rules = rules
        self._catalog = catalog
        self._search = search
        self._detector = SignalDetector(rules)

    @property
    def rules(self) -> TriageRules:
        return self._rules

    def signals(self, text: str) -> tuple[SignalRule, ...]:
        """Return the safety signals in text: the intake shows the safety route at once."""
        return self._detector.detect(text)

    def theme(self, text: str) -> str | None:
        """Return the theme the text is most about, by the search hits' votes, or None."""
        votes: dict[str, float] = defaultdict(float)
        for hit in self._search.search(text, limit=THEME_VOTERS):
            if isinstance(hit.item, Theme):
                votes[hit.item.id] += hit.score * THEME_PAGE_FACTOR
            else:
                for theme in hit.item.themes:
                    votes[theme] += hit.score / len(hit.item.themes)
        known = {theme: vote for theme, vote in votes.items() if theme in self._catalog.themes}
        # Ties go to the theme that comes first in the catalog: the same text, the same theme.
        order = {theme: index for index, theme in enumerate(self._catalog.themes)}
        return min(known, key=lambda t: (-known[t], order[t]), default=None)

    def triage(
        self,
        *,
        kind: RequestKind,
        text: str,
        role: Role,
        urgency: Urgency,
        theme: str | None = None,
    ) -> TriageResult:
        """Triage a request; `theme` is the requester's choice, else it is derived from text."""
        signals = self.signals(text)
        chosen = theme if theme in self._catalog.themes else self.theme(text)
        priority = Priority.SPOED if signals else self._rules.priority[urgency]
        need = Need.TEAMGESPREK if kind is RequestKind.GESPREKSBEGELEIDER else None
        if need is None and signals:
            need = Need.DILEMMA  # someone is in it now: the offers for an acute dilemma
        found = recommend(
            self._catalog, FinderAnswers(role=role, theme=chosen, need=need), limit=MAX_SUGGESTIONS
        )
        return TriageResult(chosen, priority, signals, tuple(found.recommendations))
