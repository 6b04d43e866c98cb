"""The Bureau's session form: its inputs read into a session, and a session back into inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.input_text import lines_of, one_line
from services.session_types import (
    AMSTERDAM,
    PLANNING_HORIZON_DAYS,
    Audience,
    SessionDetails,
    SessionInfo,
)

FIELDS = (
    "offer",
    "date",
    "time",
    "duration",
    "capacity",
    "location",
    "theme",
    "questions",
    "audience",
    "deadline_date",
    "deadline_time",
)
MAX_TEXT = 200  # theme and location
MAX_QUESTIONS = 10
MAX_QUESTION = 300
MAX_DURATION = 600
MAX_CAPACITY = 500


@dataclass(frozen=True)
class FormReading:
    """What the form came to: a session to plan, or the problem to show with what was typed."""

    values: dict[str, str]
    details: SessionDetails | None = None
    problem: str | None = None


def read_form(
    data: Mapping[str, object],
    *,
    offers: Sequence[str],
    now: datetime,
    kept_deadline: datetime | None = None,
) -> FormReading:
    """Read the form's inputs (strings, as Teams sends them) into a session's details.

    A sign-up deadline in the past is refused, except the one a session already has
    (`kept_deadline`): changing a session after its sign-up closed keeps that deadline.
    """
    values = {name: _text(data.get(name), multiline=name == "questions") for name in FIELDS}
    if values["offer"] not in offers:
        values["offer"] = offers[0]
    start = _moment(values["date"], values["time"])
    if start is None or not values["theme"]:
        return FormReading(values, problem="bureau_session_form_missing")
    if not _exists(start):
        return FormReading(values, problem="bureau_session_form_no_such_time")
    duration, capacity = (
        _whole(values["duration"], MAX_DURATION),
        _whole(values["capacity"], MAX_CAPACITY),
    )
    if duration is None or capacity is None:
        return FormReading(values, problem="bureau_session_form_bad_number")
    questions = [line.strip() for line in values["questions"].splitlines() if line.strip()]
    if (
        len(values["theme"]) > MAX_TEXT
        or len(values["location"]) > MAX_TEXT
        or len(questions) > MAX_QUESTIONS
        or any(len(question) > MAX_QUESTION for question in questions)
    ):
        return FormReading(values, problem="bureau_session_form_too_long")
    if start <= now:
        return FormReading(values, problem="bureau_session_form_past")
    if start > now + timedelta(days=PLANNING_HORIZON_DAYS):
        return FormReading(values, problem="bureau_session_form_far")
    deadline = None
    if values["deadline_date"]:
        deadline = _moment(values["deadline_date"], values["deadline_time"] or values["time"])
        if deadline is None or deadline > start:
            return FormReading(values, problem="bureau_session_form_deadline")
        kept = kept_deadline is not None and abs(deadline - kept_deadline) < timedelta(minutes=1)
        if deadline <= now and not kept:
            return FormReading(values, problem="bureau_session_form_deadline_past")
    details = SessionDetails(
        offer=values["offer"],
        starts_at=start,
        theme=values["theme"],
        duration_minutes=duration,
        location=values["location"] or None,
        questions=tuple(questions),
        audience=Audience.EVERYONE if values["audience"] == "everyone" else Audience.MANAGERS,
        capacity=capacity,
        signup_deadline=deadline,
    )
    return FormReading(values, details=details)


def form_values(session: SessionInfo) -> dict[str, str]:
    """A planned session as the form's inputs, to change it."""
    start = session.starts_at.astimezone(AMSTERDAM)
    deadline = session.signup_deadline.astimezone(AMSTERDAM) if session.signup_deadline else None
    return {
        "offer": session.offer,
        "date": start.date().isoformat(),
        "time": f"{start:%H:%M}",
        "duration": str(session.duration_minutes),
        "capacity": str(session.capacity),
        "location": session.location or "",
        "theme": session.theme,
        "questions": "\n".join(session.questions),
        "audience": session.audience.value,
        "deadline_date": deadline.date().isoformat() if deadline else "",
        "deadline_time": f"{deadline:%H:%M}" if deadline else "",
    }


def _moment(day: str, clock: str) -> datetime | None:
    """A date (YYYY-MM-DD) and time (HH:MM) in Amsterdam, or None when either is no such thing."""
    try:
        on = date.fromisoformat(day)
        at = time.fromisoformat(clock[:5])
    except ValueError:
        return None
    return datetime.combine(on, at, tzinfo=AMSTERDAM)


def _exists(moment: datetime) -> bool:
    """Whether this Amsterdam wall-clock time happens (not one the clocks skip in spring)."""
    back = moment.astimezone(UTC).astimezone(AMSTERDAM)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _whole(text: str, most: int) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if not number.is_integer() or not 1 <= number <= most:
        return None
    return int(number)


def _text(value: object, *, multiline: bool = False) -> str:
    # Inputs arrive as strings (numbers too); anything else (a forged card) counts as empty.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    text = str(value)
    return lines_of(text) if multiline else one_line(text)
