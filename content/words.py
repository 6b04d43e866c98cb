"""Words the bot recognises in typed text: other words for a finder answer, and small talk.

They live in `content/words.yaml`, beside the message texts, so the Bureau can add a word a
manager uses without a developer. Loaded once at start-up; a bad file stops the bot there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

WORDS_FILE = Path(__file__).parent / "words.yaml"
_NOT_A_WORD = re.compile(r"[^\w&:'-]+")


def normal(text: str) -> str:
    """Lowercase, without accents, punctuation or extra spaces: how typed text is compared."""
    # NFD, not NFKD: compatibility forms such as "²" must not turn into an ordinary "2".
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(_NOT_A_WORD.sub(" ", text).replace("-", " ").split())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrases(_Strict):
    """Words that show what someone means: the whole message, or a part of it."""

    exact: list[str] = Field(default_factory=list)
    contains: list[str] = Field(default_factory=list)
    # The words normalised once, when the file is read, not for every message typed.
    _exact: frozenset[str] = PrivateAttr(default=frozenset())
    _contains: tuple[str, ...] = PrivateAttr(default=())

    def model_post_init(self, context: Any, /) -> None:
        self._exact = frozenset(normal(word) for word in self.exact)
        self._contains = tuple(f" {normal(word)} " for word in self.contains)

    def match(self, typed: str) -> bool:
        """Whether normalised text is one of the exact words or contains one of the others."""
        return self.is_exactly(typed) or self.is_inside(f" {typed} ")

    def is_exactly(self, typed: str) -> bool:
        """Whether normalised text is one of the exact words."""
        return typed in self._exact

    def is_inside(self, padded: str) -> bool:
        """Whether normalised text, with a space either side, contains one of the other words."""
        return any(word in padded for word in self._contains)


class SmallTalkKind(Phrases):
    """One kind of small talk: the message key of its answer and the words that show it."""

    answer: str = Field(min_length=1)


class _WordsFile(_Strict):
    choices: dict[str, list[str]] = Field(default_factory=dict)
    small_talk: dict[str, SmallTalkKind] = Field(default_factory=dict)
    help_request: Phrases = Field(default_factory=Phrases)


@dataclass(frozen=True)
class Words:
    """The recognised words, normalised once."""

    choices: Mapping[str, frozenset[str]]
    small_talk: Mapping[str, SmallTalkKind]
    help_request: Phrases = field(default_factory=Phrases)

    def wants_help_request(self, text: str | None) -> bool:
        """Whether a typed message says the user wants to ask the Bureau for help."""
        typed = normal(text or "")
        return bool(typed) and len(typed) <= 200 and self.help_request.match(typed)

    def choice_words(self, value: str) -> frozenset[str]:
        """The other words for a finder answer's value (normalised)."""
        return self.choices.get(value, frozenset())

    def small_talk_of(self, text: str | None) -> SmallTalkKind | None:
        """The kind of small talk a typed message is, or None for anything else."""
        typed = normal(text or "")
        if not typed or len(typed) > 200:
            return None
        for kind in self.small_talk.values():
            if kind.is_exactly(typed):
                return kind
        padded = f" {typed} "
        for kind in self.small_talk.values():
            if kind.is_inside(padded):
                return kind
        return None


@cache
def load_words(path: Path = WORDS_FILE) -> Words:
    """Read and check the words file; raise ValueError (naming the file) when it is wrong."""
    try:
        parsed = _WordsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    choices = {
        value: frozenset(normal(word) for word in words) for value, words in parsed.choices.items()
    }
    return Words(
        MappingProxyType(choices), MappingProxyType(dict(parsed.small_talk)), parsed.help_request
    )
