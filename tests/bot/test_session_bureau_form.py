"""The Bureau's session form: Amsterdam wall-clock times, defaults, and inputs that do not fit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.session_bureau_form import form_values, read_form
from services.session_types import AMSTERDAM, Audience, SessionInfo

OFFERS = ["wethoudersgesprekken"]
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def filled(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "offer": "wethoudersgesprekken",
        "date": "2026-03-29",  # the day the clocks go forward
        "time": "15:00",
        "duration": "90",
        "capacity": "8",
        "location": "",
        "theme": "  Inclusief   leidinggeven ",
        "questions": "Wat merk je?\n\n  Wat heb je nodig?  \n",
        "audience": "everyone",
        "deadline_date": "2026-03-26",
        "deadline_time": "",
    }
    values.update(changes)
    return values


def test_times_are_amsterdam_wall_clock_times_on_either_side_of_the_clock_change() -> None:
    summer = read_form(filled(), offers=OFFERS, now=NOW).details
    winter = read_form(filled(date="2026-03-28", deadline_date=""), offers=OFFERS, now=NOW).details

    assert summer is not None and winter is not None
    assert summer.starts_at.astimezone(UTC).hour == 13  # 15:00 CEST
    assert winter.starts_at.astimezone(UTC).hour == 14  # 15:00 CET
    assert summer.starts_at.astimezone(AMSTERDAM).hour == 15


def test_what_was_typed_is_tidied_and_defaults_are_filled_in() -> None:
    details = read_form(filled(), offers=OFFERS, now=NOW).details

    assert details is not None
    assert details.theme == "Inclusief leidinggeven"
    assert details.questions == ("Wat merk je?", "Wat heb je nodig?")
    assert details.location is None  # not known yet
    assert details.audience is Audience.EVERYONE
    assert details.signup_deadline == datetime(2026, 3, 26, 15, 0, tzinfo=AMSTERDAM)


def test_inputs_that_do_not_fit_come_back_with_a_problem() -> None:
    cases = {
        "bureau_session_form_missing": filled(date="29-03-2026"),
        "bureau_session_form_bad_number": filled(capacity="2.5"),
        "bureau_session_form_too_long": filled(theme="x" * 201),
        "bureau_session_form_past": filled(date="2025-12-01", deadline_date=""),
        "bureau_session_form_deadline": filled(deadline_date="2026-03-30"),
        # 02:30 that night does not exist: it was planned at 03:30 (the import refuses it).
        "bureau_session_form_no_such_time": filled(time="02:30", deadline_date=""),
        "bureau_session_form_far": filled(date="2029-01-01", deadline_date=""),
        "bureau_session_form_deadline_past": filled(deadline_date="2026-01-01"),
    }
    for problem, data in cases.items():
        reading = read_form(data, offers=OFFERS, now=NOW)
        assert (reading.details, reading.problem) == (None, problem)


def test_a_forged_card_counts_as_empty_inputs_and_an_unknown_offer_as_the_first() -> None:
    reading = read_form(filled(theme=["x"], capacity=True, offer="elders"), offers=OFFERS, now=NOW)

    assert reading.problem == "bureau_session_form_missing"
    assert reading.values["offer"] == "wethoudersgesprekken"


def test_a_planned_session_fills_the_form_to_change_it() -> None:
    details = read_form(filled(deadline_time="17:00"), offers=OFFERS, now=NOW).details
    assert details is not None
    session = SessionInfo(id=1, **{f: getattr(details, f) for f in details.__dataclass_fields__})

    values = form_values(session)

    again = read_form(values, offers=OFFERS, now=NOW).details
    assert again == details
    assert values["time"] == "15:00" and values["deadline_time"] == "17:00"
