"""Free-text search over the toolkit: Dutch-aware BM25F with synonyms and typo tolerance.

Everything runs in-process on the loaded catalog: no cloud service, no downloaded model. The index
is built once per catalog (`SearchIndex.build`) and then answers a question in well under 10 ms.

How a question is matched, in order of trust (each step discounted by a named factor):
1. the Dutch snowball stem of each word (so "gesprekken" finds "gesprek");
2. the English stem against the English texts (for the English locale, and "safe space");
3. the Bureau's synonym groups from the content (`catalog.synonyms`), also multi-word ones;
4. a typo of one letter (two in long words), only for words the index does not know;
5. the parts of Dutch compounds ("teamgesprek" and "gesprek" find each other).
Per question word only its best way of matching counts, so a word never scores twice.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import snowballstemmer

from content.schema import SynonymGroup, Theme, ToolkitItem

# BM25F field weights: a word in a title or the Bureau's keywords says more about what an item is
# for than a word somewhere in its body.
TITLE_WEIGHT = 3.0
KEYWORDS_WEIGHT = 3.0
SUMMARY_WEIGHT = 2.0
THEMES_WEIGHT = 1.5
BODY_WEIGHT = 1.0

# Standard BM25 saturation and length normalisation.
K1 = 1.2
B = 0.75

# Discounts for indirect matches (see the module docstring), relative to an exact stem match.
ENGLISH_FACTOR = 0.9
SYNONYM_FACTOR = 0.9
TYPO_FACTOR = 0.7
COMPOUND_FACTOR = 0.4  # a shared part is often another sense: "vergaderruimte", "ruimte"

# "No good match": an item must score at least this fraction of what one distinctive word earns
# (a word found once, in the body of one item only), and must match the question in its title,
# keywords, summary or themes. Otherwise the bot offers to pass the question on to Bureau I&D
# instead of showing a page that is only vaguely related. Relative, so that it means the same as
# the toolkit grows. On the evaluation sets (tests/search/eval_*.yaml) off-topic questions reach
# about 0.2 and the weakest expected hits about 0.7 (one-word questions such as "coaching").
MIN_EVIDENCE = 0.5

# Questions are short; a pasted e-mail is cut so that one question stays fast.
MAX_QUERY_CHARS = 600
MAX_QUERY_WORDS = 30

MIN_WORD_LEN = 2
MAX_WORD_LEN = 40  # longer "words" are pasted codes or keyboard mashing, never toolkit words
TYPO_MIN_LEN = 5  # shorter words have too many neighbours one letter away
TYPO_MAX_LEN = 22  # the longest toolkit words; finding neighbours costs the square of the length
TYPO_TWO_EDITS_LEN = 8
MAX_TYPO_WORDS = 5  # bounds the time a question full of unknown words can take
COMPOUND_MIN_LEN = 5  # a compound part shorter than this matches too much ("team", "werk")

# Fields that say what an item is about; the body only says more about it.
_SUBJECT_FIELDS = frozenset({"title", "keywords", "summary", "themes"})

# How a word the search made itself reads in a reason line.
_SHOWN_AS = {"eenopeen": "één op één"}

# Fields whose words name what an item is about: a match there is a reason worth showing.
_NAMED_FIELDS = frozenset({"title", "keywords", "themes"})
# Words that help a search find a page but say nothing as a reason ("omdat je schreef: nodig").
_NOT_A_REASON = frozenset(
    {"nodig", "deal", "hulp", "help", "vraag", "vragen", "wil", "willen", "moet", "moeten"}
    | {"kan", "kunnen", "mag", "goed", "nu", "doen", "weten", "zeggen", "maken", "niet"}
    | {"krijg", "krijgen", "need", "want", "know", "team", "teams"}
)

_SYNONYM = "syn:"  # index terms for a synonym group: "syn:3"
_ENGLISH = "en:"  # index terms from the English texts: "en:leadership"

# Dutch function words, chat filler ("hoi", "ff", "mn"), everyday words that say nothing about a
# subject ("vind", "nieuwe", "volgende week"), and a few English function words. Left out on
# purpose: "geen" and "zelf", which carry meaning here ("geen tijd", "zelf gediscrimineerd").
_STOP_WORDS = """
    aan al alle alles als alsjeblieft alstublieft altijd alvast andere ben bent beste bij dag daar
    daarmee daarom dan dank dat de deze die dit doe doen doet door dus echt een eens eigenlijk en
    er erover even ff ga gaan gaat gedaan geweest graag groet groetjes had hallo heb hebben hebt
    heeft help helpen helpt hem het hey hi
    hier hierin hiermee hij hoe hoezo hoi hun ik in is ja je jij jou
    jouw jullie kan kon kun kunnen kunt maar mag me meer men met mij mijn mn moet moeten na naar
    niet niets nog nou nu of om omdat ons onze ook op over reeds te tegen thanks toch toen tot u
    uit uw vaak van veel voor vraag vragen waar waarom wanneer want was wat we weer weet weten wel
    welk welke werd wie wij wil willen word wordt worden zal ze zich zij zijn zn zo zonder zou
    zouden
    af allemaal alleen beter ding dingen eerlijk eerst erg gemaakt gezegd gisteren goed heel iemand
    iets jaar keer kort krijg krijgen krijgt maak maakt maakte maand maken manier mensen merk
    misschien morgen net nieuw nieuwe soms speelt staan staat steeds toe vandaag vind vinden vindt
    volgende vorige week werkt zeg zeggen zegt zeker zorg
    a about all am an and any are as at be but by can could do does for from get has have he her
    his how i if is it its just make makes me my no not of on or our she should so some someone
    than that the their them then there they this to us was we what when where which who why
    will with would you your
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

_URL = re.compile(r"https?://\S+|\]\([^)]*\)")
_AMPERSAND = re.compile(r"(?<=[a-z])&(?=[a-z])")  # "i&d" and "a&g" are one word each
# "1-op-1", "een op een", "één-op-één": otherwise nothing but stop words and single digits.
_ONE_ON_ONE = re.compile(r"\b(?:1|een)[\s-]*op[\s-]*(?:1|een)\b")
_WORD = re.compile(r"[a-z0-9]+")


class SearchableCatalog(Protocol):
    """What the index needs of `content.loader.Catalog`."""

    @property
    def synonyms(self) -> Sequence[SynonymGroup]: ...

    def items(self) -> Iterable[ToolkitItem]: ...


@dataclass(frozen=True)
class Hit:
    """A toolkit item that fits a question, and the question's words that it matched."""

    item: ToolkitItem
    score: float
    matched_terms: list[str]


def words(text: str) -> list[str]:
    """Split text into lowercase words without accents, punctuation, emoji or links."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _AMPERSAND.sub("", _URL.sub(" ", text))
    text = _ONE_ON_ONE.sub(" eenopeen ", text)
    return [word for word in _WORD.findall(text) if MIN_WORD_LEN <= len(word) <= MAX_WORD_LEN]


class _Stemmer:
    """A memoising, thread-safe wrapper: snowball stemmers keep state while they work."""

    def __init__(self, language: str) -> None:
        self._stemmer = snowballstemmer.stemmer(language)
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        stem = self._cache.get(word)
        if stem is None:
            with self._lock:
                stem = str(self._stemmer.stemWord(word))
            if len(self._cache) < 100_000:  # a bound, since questions bring new words forever
                self._cache[word] = stem
        return stem


def _edits(word: str, depth: int) -> set[str]:
    """Return the word and every string made from it by deleting up to `depth` letters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _osa_distance(a: str, b: str) -> int:
    """Return the edit distance counting a swap of two neighbouring letters as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _affixes(stem: str) -> Iterable[str]:
    """Yield the proper prefixes and suffixes of a stem long enough to be a compound part."""
    for cut in range(COMPOUND_MIN_LEN, len(stem)):
        yield stem[:cut]
        yield stem[len(stem) - cut :]


def _reason(matched: list[str]) -> list[str]:
    """The matched words for the reason line, in order, each only if it shows something new."""
    labels: list[str] = []
    for word in matched:
        label = _SHOWN_AS.get(word, word)
        shown = {word for shown_label in labels for word in shown_label.split()}
        if not set(label.split()) <= shown:
            labels.append(label)
    return labels


@dataclass
class _Alternative:
    factor: float
    label: str  # the word shown as matched: the question's word, or the typo's correction


@dataclass
class _QueryWord:
    """One word (or synonym phrase) of a question and the index terms it may match."""

    alternatives: dict[str, _Alternative] = field(default_factory=dict)

    def offer(self, term: str, factor: float, label: str) -> None:
        known = self.alternatives.get(term)
        if known is None or known.factor < factor:
            self.alternatives[term] = _Alternative(factor, label)


class SearchIndex:
    """An in-memory BM25F index over the offers, themes and FAQ of one catalog.

    `min_score` is the "no good match" threshold: hits below it are never returned.
    """

    def __init__(self, items: Sequence[ToolkitItem], synonyms: Sequence[SynonymGroup]) -> None:
        self._items = tuple(items)
        self._dutch = _Stemmer("dutch")
        self._english = _Stemmer("english")
        self._synonyms_by_stem: dict[str, set[str]] = defaultdict(set)
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        self._typo_candidates: dict[str, set[str]] = defaultdict(set)
        self._subject_stems: set[str] = set()
        self._compounds: dict[str, set[str]] = defaultdict(set)  # affix -> subject stems
        self._scores: dict[str, dict[int, float]] = {}  # term -> item -> BM25F score
        self._subject: dict[str, set[int]] = defaultdict(set)  # term -> items it is a subject of
        # term -> items that name it as a keyword, theme or synonym group: a reason to show
        self._named: dict[str, set[int]] = defaultdict(set)
        self._index_synonyms(synonyms)
        self._index_items()
        self.min_score = MIN_EVIDENCE * self._idf(1)

    @classmethod
    def build(cls, catalog: SearchableCatalog) -> SearchIndex:
        """Index every item of the catalog with the catalog's synonyms."""
        return cls(list(catalog.items()), catalog.synonyms)

    def search(self, query: str, *, limit: int = 3) -> list[Hit]:
        """Return up to `limit` items that fit the question, best first; [] if none fits well."""
        totals: dict[int, float] = defaultdict(float)
        matched: dict[int, list[str]] = defaultdict(list)
        on_subject: set[int] = set()
        for query_word in self._analyse_query(query):
            best: dict[int, tuple[float, str, str]] = {}
            for term, alternative in query_word.alternatives.items():
                on_subject.update(self._subject.get(term, ()))
                for doc, term_score in self._scores.get(term, {}).items():
                    score = alternative.factor * term_score
                    if score > best.get(doc, (0.0, "", ""))[0]:
                        best[doc] = (score, alternative.label, term)
            for doc, (score, label, term) in best.items():
                totals[doc] += score
                # Only a keyword, theme or synonym group is a reason; any shared word ranks.
                if doc in self._named.get(term, ()) and label not in _NOT_A_REASON:
                    matched[doc].append(label)  # made into the reason line for the hits only
        # Words that only occur in an item's body can rank it, but cannot make it a hit: a
        # question about the printer must not land on a page that mentions "nieuwe" somewhere.
        good = [doc for doc in on_subject if totals[doc] >= self.min_score]
        # Ties keep the catalog's order, so the same question always gives the same answer.
        good.sort(key=lambda doc: (-totals[doc], doc))
        return [
            Hit(self._items[doc], round(totals[doc], 4), _reason(matched[doc]))
            for doc in good[:limit]
        ]

    # -- building

    def _stems(self, text: str) -> list[str]:
        return [self._dutch(word) for word in words(text) if word not in STOP_WORDS]

    def _index_synonyms(self, synonyms: Sequence[SynonymGroup]) -> None:
        for number, group in enumerate(synonyms):
            term = f"{_SYNONYM}{number}"
            for entry in group.words:
                stems = tuple(self._stems(entry))
                if len(stems) == 1:
                    self._synonyms_by_stem[stems[0]].add(term)
                elif stems:
                    self._phrases[stems[0]].append((stems, term))
                self._add_subject_words(entry)

    def _add_subject_words(self, text: str) -> None:
        """Remember the words of titles, keywords and synonyms as typo and compound targets.

        Only these: correcting "betaalt" to a body word like "bepaalt" would invent a match.
        """
        for word in words(text):
            if word in STOP_WORDS:
                continue
            if len(word) >= TYPO_MIN_LEN:
                for variant in _edits(word, 2):
                    self._typo_candidates[variant].add(word)
            stem = self._dutch(word)
            self._subject_stems.add(stem)
            for affix in _affixes(stem):
                self._compounds[affix].add(stem)

    def _synonym_terms(self, stems: Sequence[str]) -> list[str]:
        """Return a synonym term for every synonym word or phrase in a run of stems."""
        found: list[str] = []
        for i, stem in enumerate(stems):
            found.extend(self._synonyms_by_stem.get(stem, ()))
            for phrase, term in self._phrases.get(stem, ()):
                if tuple(stems[i : i + len(phrase)]) == phrase:
                    found.append(term)
        return found

    def _fields(self, item: ToolkitItem) -> list[tuple[str, float, list[str]]]:
        """Return (field name, weight, index terms) for the Dutch and English texts of an item."""
        # A theme page is about its own theme, so its id counts like the themes of other items.
        themes = " ".join([*item.themes, item.id] if isinstance(item, Theme) else item.themes)
        texts = {
            "title": (TITLE_WEIGHT, item.title.nl, item.title.en),
            "keywords": (KEYWORDS_WEIGHT, " ; ".join(item.keywords), ""),
            "summary": (SUMMARY_WEIGHT, item.summary.nl, item.summary.en),
            "themes": (THEMES_WEIGHT, themes.replace("-", " "), ""),
            "body": (BODY_WEIGHT, item.body.nl, item.body.en),
        }
        fields: list[tuple[str, float, list[str]]] = []
        for name, (weight, dutch, english) in texts.items():
            if name in _SUBJECT_FIELDS and name != "summary":
                self._add_subject_words(dutch)
            stems = self._stems(dutch)
            fields.append((name, weight, stems + self._synonym_terms(stems)))
            english_words = [w for w in words(english) if w not in STOP_WORDS]
            fields.append(
                (f"en-{name}", weight, [_ENGLISH + self._english(w) for w in english_words])
            )
        return fields

    def _index_items(self) -> None:
        per_doc = [self._fields(item) for item in self._items]
        lengths: dict[str, list[int]] = defaultdict(list)
        for fields in per_doc:
            for name, _, terms in fields:
                lengths[name].append(len(terms))
        average = {name: max(sum(ls) / len(ls), 1.0) for name, ls in lengths.items()}

        weighted: dict[str, dict[int, float]] = defaultdict(dict)
        for doc, fields in enumerate(per_doc):
            for name, weight, terms in fields:
                norm = 1 - B + B * len(terms) / average[name]
                subject = name.removeprefix("en-") in _SUBJECT_FIELDS
                for term in terms:
                    postings = weighted[term]
                    postings[doc] = postings.get(doc, 0.0) + weight / norm
                    if subject:
                        self._subject[term].add(doc)
                        if name in _NAMED_FIELDS or term.startswith(_SYNONYM):
                            self._named[term].add(doc)

        for term, postings in weighted.items():
            idf = self._idf(len(postings))
            self._scores[term] = {
                doc: idf * tf * (K1 + 1) / (tf + K1) for doc, tf in postings.items()
            }

    def _idf(self, document_frequency: int) -> float:
        count = len(self._items)
        return math.log(1 + (count - document_frequency + 0.5) / (document_frequency + 0.5))

    # -- querying

    def _typo_corrections(self, word: str) -> list[str]:
        """Return the subject words nearest to an unknown word, if one or two letters off."""
        if not TYPO_MIN_LEN <= len(word) <= TYPO_MAX_LEN:
            return []
        max_edits = 2 if len(word) >= TYPO_TWO_EDITS_LEN else 1
        candidates: set[str] = set()
        for variant in _edits(word, max_edits):
            candidates |= self._typo_candidates.get(variant, set())
        by_distance: dict[int, list[str]] = defaultdict(list)
        for candidate in candidates:
            distance = _osa_distance(word, candidate)
            if distance <= max_edits:
                by_distance[distance].append(candidate)
        return sorted(by_distance[min(by_distance)]) if by_distance else []

    def _compound_relatives(self, stem: str) -> set[str]:
        """Return subject stems that contain this one as a compound part, or the other way."""
        if len(stem) < COMPOUND_MIN_LEN:
            return set()
        relatives = set(self._compounds.get(stem, ()))
        relatives.update(part for part in _affixes(stem) if part in self._subject_stems)
        relatives.discard(stem)
        return relatives

    def _offer_corrections(self, query_word: _QueryWord, word: str) -> None:
        for correction in self._typo_corrections(word):
            fixed = self._dutch(correction)
            query_word.offer(fixed, TYPO_FACTOR, correction)
            for term in self._synonym_terms([fixed]):
                query_word.offer(term, TYPO_FACTOR * SYNONYM_FACTOR, correction)

    def _analyse_query(self, query: str) -> list[_QueryWord]:
        question = [w for w in words(query[:MAX_QUERY_CHARS]) if w not in STOP_WORDS]
        question = question[:MAX_QUERY_WORDS]
        stems = [self._dutch(word) for word in question]
        analysed: dict[str, _QueryWord] = {}  # by stem: a repeated word counts once
        typos_left = MAX_TYPO_WORDS
        for word, stem in zip(question, stems, strict=True):
            if stem in analysed:
                continue
            query_word = analysed[stem] = _QueryWord()
            query_word.offer(stem, 1.0, word)
            english = _ENGLISH + self._english(word)
            query_word.offer(english, ENGLISH_FACTOR, word)
            for term in self._synonym_terms([stem]):
                query_word.offer(term, SYNONYM_FACTOR, word)
            if typos_left and not any(term in self._scores for term in query_word.alternatives):
                typos_left -= 1
                self._offer_corrections(query_word, word)
            for relative in self._compound_relatives(stem):
                query_word.offer(relative, COMPOUND_FACTOR, word)
        # A multi-word synonym ("safe space") is one more query word of its own.
        for i, stem in enumerate(stems):
            for phrase, term in self._phrases.get(stem, ()):
                if tuple(stems[i : i + len(phrase)]) == phrase:
                    label = " ".join(question[i : i + len(phrase)])
                    phrase_word = analysed.setdefault(term, _QueryWord())
                    phrase_word.offer(term, SYNONYM_FACTOR, label)
        return list(analysed.values())
