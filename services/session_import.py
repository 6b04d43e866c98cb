"""Read the Bureau's planning file (YAML) into sessions, with every problem named by line.

The file is a list, one entry per session; times are Amsterdam time:

    - offer: wethoudersgesprekken
      start: 2026-10-17 15:00
      duration: 90               # minutes; default 90
      location: Amstelpark 22    # leave out (or "n.t.b.") when not known yet
      theme: Inclusief leidinggeven na het Verwey-Jonker onderzoek
      questions:
        - Wat merk je sinds het rapport?
      audience: managers         # or everyone (default)
      capacity: 8                # default 8
      deadline: 2026-10-14 17:00 # sign-ups close; default: at the start

Nothing is planned unless the whole file is valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.session_types import (
    AMSTERDAM,
    DEFAULT_CAPACITY,
    DEFAULT_DURATION_MINUTES,
    PLANNING_HORIZON_DAYS,
    Audience,
    SessionDetails,
)

NOT_KNOWN_YET = frozenset({"n.t.b.", "ntb", "n.t.b", "tbd"})
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, order=True)
class PlanningProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class PlanningFileError(ValueError):
    """The file cannot be planned; `problems` says every reason, by line."""

    def __init__(self, problems: Sequence[PlanningProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offer: str = Field(min_length=1)
    start: datetime
    duration: int = Field(default=DEFAULT_DURATION_MINUTES, gt=0, le=8 * 60)
    # The same limits as the Bureau's form (bot/session_bureau_form.py).
    location: str | None = Field(default=None, max_length=200)
    theme: str = Field(min_length=1, max_length=200)
    questions: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=10
    )
    audience: Audience = Audience.EVERYONE
    capacity: int = Field(default=DEFAULT_CAPACITY, gt=0, le=500)
    deadline: datetime | None = None

    @field_validator("start", "deadline", mode="before")
    @classmethod
    def _amsterdam_time(cls, value: object) -> object:
        if isinstance(value, str):
            return _in_amsterdam(_parse_time(value.strip()))
        if isinstance(value, datetime):
            return _in_amsterdam(value)
        return value

    @field_validator("location")
    @classmethod
    def _not_known_yet(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in NOT_KNOWN_YET:
            return None
        return value.strip()


def _parse_time(text: str) -> datetime:
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError("write a time as YYYY-MM-DD HH:MM (Amsterdam time)")


def _in_amsterdam(value: datetime) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(AMSTERDAM)
    local = value.replace(tzinfo=AMSTERDAM)
    # A time the clocks skip in spring (02:30 on the last Sunday of March) does not exist.
    if local.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None) != value:
        raise ValueError(f"{value:%Y-%m-%d %H:%M} does not exist in Amsterdam (clocks move)")
    return local


def parse_sessions(
    text: str, *, offers_with_dates: Iterable[str], now: datetime
) -> list[SessionDetails]:
    """The sessions in a planning file; raise PlanningFileError naming every problem by line."""
    offers = frozenset(offers_with_dates)
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise PlanningFileError(
            [PlanningProblem((mark.line + 1) if mark else 1, f"not YAML: {error}")]
        ) from None
    if not isinstance(data, list) or not isinstance(tree, yaml.SequenceNode) or not data:
        raise PlanningFileError(
            [PlanningProblem(1, "write the sessions as a list: '- offer: ...'")]
        )
    problems: list[PlanningProblem] = []
    sessions: list[SessionDetails] = []
    for node, entry in zip(tree.value, data, strict=True):
        line = node.start_mark.line + 1
        if not isinstance(entry, dict):
            problems.append(PlanningProblem(line, "a session is a set of fields: 'offer: ...'"))
            continue
        try:
            parsed = _Entry.model_validate(entry)
        except ValidationError as error:
            for detail in error.errors():
                field = ".".join(str(part) for part in detail["loc"]) or "session"
                problems.append(
                    PlanningProblem(
                        _line_of(node, detail["loc"], line), _says(field, detail["msg"])
                    )
                )
            continue
        problems.extend(_contradictions(parsed, node, line, offers, now))
        sessions.append(
            SessionDetails(
                offer=parsed.offer,
                starts_at=parsed.start.astimezone(UTC),
                duration_minutes=parsed.duration,
                location=parsed.location,
                theme=parsed.theme.strip(),
                questions=tuple(q.strip() for q in parsed.questions if q.strip()),
                audience=parsed.audience,
                capacity=parsed.capacity,
                signup_deadline=parsed.deadline.astimezone(UTC) if parsed.deadline else None,
            )
        )
    if problems:
        raise PlanningFileError(problems)
    return sessions


def _contradictions(
    entry: _Entry, node: yaml.Node, line: int, offers: frozenset[str], now: datetime
) -> list[PlanningProblem]:
    problems = []
    if entry.offer not in offers:
        known = ", ".join(sorted(offers)) or "none"
        problems.append(
            PlanningProblem(
                _line_of(node, ("offer",), line),
                f"offer: '{entry.offer}' has no dates (offers with sessions: {known})",
            )
        )
    if entry.start <= now:
        problems.append(PlanningProblem(_line_of(node, ("start",), line), "start: is in the past"))
    elif entry.start > now + timedelta(days=PLANNING_HORIZON_DAYS):
        problems.append(
            PlanningProblem(
                _line_of(node, ("start",), line),
                f"start: is more than {PLANNING_HORIZON_DAYS} days ahead",
            )
        )
    if entry.deadline is not None and entry.deadline > entry.start:
        problems.append(
            PlanningProblem(_line_of(node, ("deadline",), line), "deadline: is after the start")
        )
    return problems


def _says(field: str, message: str) -> str:
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{field}: {message}"


def _line_of(node: yaml.Node, loc: Sequence[str | int], default: int) -> int:
    """The line of a field of this entry, or of the entry when the field is missing."""
    if not loc or not isinstance(node, yaml.MappingNode):
        return default
    for key, value in node.value:
        if key.value == loc[0]:
            return int(value.start_mark.line) + 1
    return default
