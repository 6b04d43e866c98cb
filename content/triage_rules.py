"""The Bureau's triage rules for help requests (`toolkit/triage.yaml`): schema, loader and check.

The rules say which priority an urgency gets, which toolkit items make up the safety route, and
which words in a sentence signal an acute situation or a personal experience of discrimination,
threat or unsafety. A phrase is a sequence of words; a word ending in `*` matches any ending.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator

from content.check import TOOLKIT_DIR, Problem
from content.loader import ContentError
from content.schema import Strict, Text
from content.search import words
from content.templates import FAST_LOADER

TRIAGE_FILE = "triage.yaml"
_PHRASE_WORD = re.compile(r"[a-z0-9]+\*?")


class Urgency(StrEnum):
    """How soon the requester needs help, as they chose it."""

    DEZE_WEEK = "deze_week"
    DEZE_MAAND = "deze_maand"
    GEEN_HAAST = "geen_haast"


class Priority(StrEnum):
    """A help request's priority, highest first (the order of this enum)."""

    SPOED = "spoed"
    HOOG = "hoog"
    NORMAAL = "normaal"
    LAAG = "laag"

    @property
    def rank(self) -> int:
        """0 for the highest priority; sorts the queue."""
        return list(Priority).index(self)


class SignalKind(StrEnum):
    ACUUT = "acuut"  # an acute situation: danger, violence
    ERVARING = "ervaring"  # a personal experience of discrimination, threat or unsafety


def _check_phrases(phrases: list[str]) -> list[str]:
    for phrase in phrases:
        parts = phrase.split()
        if not parts or not all(_PHRASE_WORD.fullmatch(part) for part in parts):
            raise ValueError(
                f"{phrase!r}: use lowercase words without accents or punctuation;"
                " a * only at the end of a word"
            )
        if words(phrase.replace("*", "")) != [p.rstrip("*") for p in parts]:
            raise ValueError(f"{phrase!r}: every word needs at least two letters or digits")
    return phrases


class SignalRule(Strict):
    """One safety signal: fires on a sentence with a `when` phrase and no `unless` phrase."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: SignalKind
    label: Text
    when: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)

    _phrases = field_validator("when", "unless")(_check_phrases)


class TriageRules(Strict):
    """Everything in `triage.yaml`."""

    priority: dict[Urgency, Priority]
    safety_route: list[str] = Field(min_length=1)  # toolkit item ids
    general: list[str] = Field(default_factory=list)  # phrases that silence every signal
    signals: list[SignalRule] = Field(min_length=1)

    _general = field_validator("general")(_check_phrases)

    @field_validator("priority")
    @classmethod
    def _every_urgency(cls, value: dict[Urgency, Priority]) -> dict[Urgency, Priority]:
        missing = [urgency.value for urgency in Urgency if urgency not in value]
        if missing:
            raise ValueError(f"give a priority for {', '.join(missing)}")
        return value


@dataclass(frozen=True)
class TriageScan:
    rules: TriageRules | None
    problems: list[Problem]


def scan_triage_rules(root: Path, known_items: Iterator[str] | Sequence[str]) -> TriageScan:
    """Read and validate `triage.yaml` in the toolkit at root, against the toolkit's item ids."""
    path = root / TRIAGE_FILE
    try:
        text = path.read_text(encoding="utf-8")
        tree = yaml.compose(text, Loader=FAST_LOADER)
        data: Any = yaml.load(text, Loader=FAST_LOADER)
    except OSError:
        return TriageScan(None, [Problem(path, 1, "triage rules not found")])
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return TriageScan(None, [Problem(path, line, f"not valid YAML: {error}")])
    try:
        rules = TriageRules.model_validate(data)
    except ValidationError as error:
        problems = [
            Problem(path, _line(tree, e["loc"]), f"{_where(e['loc'])}{e['msg']}")
            for e in error.errors()
        ]
        return TriageScan(None, sorted(problems))
    problems = _cross_check(path, tree, rules, set(known_items))
    return TriageScan(None if problems else rules, problems)


def _cross_check(path: Path, tree: Any, rules: TriageRules, known: set[str]) -> list[Problem]:
    problems = [
        Problem(path, _line(tree, ("safety_route", index)), f"unknown toolkit item {item!r}")
        for index, item in enumerate(rules.safety_route)
        if item not in known
    ]
    seen: set[str] = set()
    for index, signal in enumerate(rules.signals):
        if signal.id in seen:
            problems.append(
                Problem(path, _line(tree, ("signals", index, "id")), f"{signal.id!r} twice")
            )
        seen.add(signal.id)
    return sorted(problems)


def _where(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc) + ": " if loc else ""


def _line(tree: Any, loc: Sequence[str | int]) -> int:
    """The file line of the value at loc, or of the nearest part of it that exists."""
    node = tree
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part] if part < len(node.value) else None
        else:
            found = None
        if found is None:
            break
        node = found
        line = node.start_mark.line + 1
    return line


class TriageRulesError(ContentError):
    """The triage rules have problems; all of them are listed."""


def load_triage_rules(root: Path = TOOLKIT_DIR, *, known_items: Mapping[str, Any]) -> TriageRules:
    """Load the rules at root, checked against the toolkit's items; raise TriageRulesError."""
    scan = scan_triage_rules(root, list(known_items))
    if scan.rules is None:
        raise TriageRulesError(scan.problems)
    return scan.rules
