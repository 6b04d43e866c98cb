"""`wegwijzer sessions import FILE`: a valid file plans sessions, a bad one plans nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from services.session_import import PlanningFileError, parse_sessions
from services.session_types import AMSTERDAM, Audience
from storage.db import create_engine, create_session_factory
from storage.uow import UnitOfWork

NOW = datetime(2026, 9, 1, tzinfo=UTC)
# The command plans against the real clock: next year is in the future and within reach.
NEXT_YEAR = f"{datetime.now(UTC).year + 1}-"
OFFERS = ("wethoudersgesprekken",)

GOOD = """\
- offer: wethoudersgesprekken
  start: 2026-10-17 15:00
  location: Amstelpark 22
  theme: Inclusief leidinggeven na het Verwey-Jonker onderzoek
  questions:
    - Wat merk je sinds het rapport?
  audience: managers
  deadline: 2026-10-14 17:00
- offer: wethoudersgesprekken
  start: 2026-12-19 15:00
  location: n.t.b.
  theme: Discriminatie op de werkvloer
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanningFileError) as raised:
        parse_sessions(text, offers_with_dates=OFFERS, now=NOW)
    return [str(problem) for problem in raised.value.problems]


def test_a_valid_file_gives_sessions_in_amsterdam_time_with_defaults() -> None:
    first, second = parse_sessions(GOOD, offers_with_dates=OFFERS, now=NOW)

    assert first.starts_at == datetime(2026, 10, 17, 15, 0, tzinfo=AMSTERDAM)
    assert first.starts_at.utcoffset() == datetime(2026, 10, 17, 13, 0, tzinfo=UTC).utcoffset()
    assert first.audience is Audience.MANAGERS
    assert first.signup_deadline == datetime(2026, 10, 14, 17, 0, tzinfo=AMSTERDAM)
    assert (second.location, second.capacity, second.duration_minutes) == (None, 8, 90)
    assert second.starts_at.astimezone(AMSTERDAM).hour == 15  # winter time, still 15:00 local
    assert second.audience is Audience.EVERYONE


def test_every_problem_is_named_with_its_line() -> None:
    text = GOOD + (
        "- offer: toolkit-id\n"
        "  start: 2026-10-20 15:00\n"
        "  theme: Iets\n"
        "  capacity: 0\n"
        "  colour: rood\n"
    )

    problems = _problems(text)

    assert any(p.startswith("line 16: capacity:") for p in problems), problems
    assert any(p.startswith("line 17: colour:") for p in problems), problems


def test_an_offer_without_dates_a_past_start_and_a_late_deadline_are_refused() -> None:
    text = (
        "- offer: toolkit-id\n"
        "  start: 2026-08-01 15:00\n"
        "  theme: Iets\n"
        "  deadline: 2026-08-02 10:00\n"
    )

    assert _problems(text) == [
        "line 1: offer: 'toolkit-id' has no dates (offers with sessions: wethoudersgesprekken)",
        "line 2: start: is in the past",
        "line 4: deadline: is after the start",
    ]


def test_a_start_years_ahead_is_refused_as_a_typing_error() -> None:
    text = "- offer: wethoudersgesprekken\n  start: 9999-12-31 23:59\n  theme: Iets\n"

    assert _problems(text) == ["line 2: start: is more than 731 days ahead"]


def test_a_place_or_a_question_longer_than_the_form_allows_is_refused() -> None:
    text = (
        "- offer: wethoudersgesprekken\n"
        "  start: 2026-10-20 15:00\n"
        "  theme: Iets\n"
        f"  location: {'x' * 201}\n"
        f"  questions: ['{'y' * 301}']\n"
    )

    problems = _problems(text)

    assert [p.split(":")[0:2] for p in problems] == [
        ["line 4", " location"],
        ["line 5", " questions.0"],
    ]


def test_a_time_the_clocks_skip_is_refused() -> None:
    text = "- offer: wethoudersgesprekken\n  start: 2027-03-28 02:30\n  theme: Iets\n"

    assert _problems(text) == [
        "line 2: start: 2027-03-28 02:30 does not exist in Amsterdam (clocks move)"
    ]


@pytest.mark.parametrize(
    "text",
    ["", "offer: wethoudersgesprekken\n", "- [a, b\n", "- just a line\n"],
    ids=["empty", "not-a-list", "broken-yaml", "not-a-mapping"],
)
def test_a_file_that_is_not_a_list_of_sessions_is_refused(text: str) -> None:
    assert _problems(text)


def _count_sessions(url: str) -> int:
    async def count() -> int:
        engine = create_engine(url)
        try:
            async with UnitOfWork(create_session_factory(engine)) as uow:
                return len(await uow.sessions.upcoming(now=NOW))
        finally:
            await engine.dispose()

    return asyncio.run(count())


def test_the_command_plans_once_and_skips_what_is_already_planned(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    plan = tmp_path / "planning.yaml"
    plan.write_text(GOOD.replace("2026-", NEXT_YEAR), encoding="utf-8")

    assert main(["sessions", "import", str(plan)]) == 0
    assert main(["sessions", "import", str(plan)]) == 0

    out = capsys.readouterr().out
    assert "2 session(s) planned, 0 skipped" in out
    assert "0 session(s) planned, 2 skipped" in out
    assert _count_sessions(sqlite_url) == 2


def test_the_command_plans_nothing_from_a_file_with_one_bad_session(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    plan = tmp_path / "planning.yaml"
    plan.write_text(GOOD.replace("2026-", NEXT_YEAR) + "- offer: nope\n", encoding="utf-8")

    assert main(["sessions", "import", str(plan)]) == 1

    err = capsys.readouterr().err
    assert f"{plan}:13: start: Field required" in err
    assert "nothing was planned" in err
    assert "Traceback" not in err
    assert _count_sessions(sqlite_url) == 0


def test_the_command_says_when_the_file_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "import", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read the file" in capsys.readouterr().err
