"""`wegwijzer chat` as a developer uses it: a real process, typed lines in, readable cards out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WEGWIJZER = Path(sys.executable).parent / "wegwijzer"


def chat_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a chat run in `tmp_path`: its own database, development mode."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/chat.db",
        "ENVIRONMENT": "development",
        "APP_ID": "",
    }


def chat(
    tmp_path: Path, lines: list[str], *, locale: str = "nl-NL", extra: tuple[str, ...] = ()
) -> str:
    done = subprocess.run(
        [str(WEGWIJZER), "chat", "--locale", locale, *extra],
        input="\n".join([*lines, "/quit"]) + "\n",
        capture_output=True,
        text=True,
        env=chat_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_chat_shows_the_welcome_and_walks_the_finder_by_numbers(tmp_path: Path) -> None:
    # Press 1 (find an offer); at each question press 1 (next) and type the choice's number.
    out = chat(tmp_path, ["1", "1", "1", "1", "4", "1", "3", "1", "3"])
    assert "Welkom bij Wegwijzer I&D" in out
    assert "[1] Aanbod vinden" in out
    assert "Vraag 1 van 4" in out and "(1) Teammanager" in out
    assert "Dit past bij jou" in out
    assert "Gespreksbegeleider voor een teamgesprek" in out
    assert "Traceback" not in out


def test_chat_answers_a_free_question_and_opens_an_item(tmp_path: Path) -> None:
    out = chat(tmp_path, ["mijn team maakt grapjes over afkomst, wat kan ik doen?", "1"])
    assert "Dit vond ik bij je vraag" in out
    assert "Waarom dit past: je vraag gaat over" in out
    assert "Als leidinggevende zet jij de norm." in out


def test_chat_speaks_english_with_an_english_locale(tmp_path: Path) -> None:
    assert "Welcome to Wegwijzer I&D" in chat(tmp_path, [], locale="en-US")


# The manager asks the Bureau a question by typing, every step answered by numbers and Enter.
ASK = [
    "ik wil hulp vragen aan het bureau",
    *("1", "1"),  # Verder; a question for the Bureau
    "Mijn team vindt inclusie gedoe. Hoe krijg ik draagvlak?",
    *("1", ""),  # Verder; the suggested theme
    *("1", "Wonen", "1", "2", "1"),  # Verder; directorate, role, urgency, contact
    *("1", "", "", "", "", "", ""),  # Versturen; every answer as the summary shows it
]


def test_chat_plays_the_manager_and_the_bureau_in_its_channel(tmp_path: Path) -> None:
    out = chat(tmp_path, [*ASK, "mijn hulpvragen", "/wissel", "koppel", "/wissel"])

    assert "Je vraag is verstuurd naar Bureau I&D (nummer 1)" in out
    assert "Hulpvraag 1" in out and "Status: Nieuw" in out
    assert "== Je bent nu de Bureau-medewerker. ==" in out
    assert "Dit kanaal is nu gekoppeld." in out  # the Bureau member is in the team
    assert "== Je bent nu de leidinggevende. ==" in out
    assert "Traceback" not in out


def test_chat_can_start_as_the_bureau(tmp_path: Path) -> None:
    out = chat(tmp_path, ["koppel", "/wissel"], extra=("--as-bureau",))

    assert out.index("Dit kanaal is nu gekoppeld.") < out.index("Welkom bij Wegwijzer I&D")


def test_chat_walks_a_help_request_round_trip_between_manager_and_bureau(tmp_path: Path) -> None:
    out = chat(
        tmp_path,
        [
            *ASK,
            "/wissel",  # the Bureau member, in the channel: the request's card is there
            "1",  # Oppakken
            "3",  # Stuur antwoord (the card's reply input)
            "Hoe groot is je team?",
            "/wissel",  # the manager: two notices, the second with the reply
            "3",  # Antwoorden, on the reply's notice
            "1",  # Stuur antwoord
            "Twaalf mensen.",
            "/wissel",  # the Bureau member: the answer in the card's thread
        ],
    )

    bureau_sees = out.index("== Je bent nu de Bureau-medewerker. ==")
    assert "Hulpvraag 1: Vraag aan het Bureau" in out[bureau_sees:]
    assert "Opgepakt door: Noor Bakker (lokaal)" in out
    assert "Gevraagd door: Sam Jansen (lokaal)" in out
    manager_sees = out.index("== Je bent nu de leidinggevende. ==")
    assert "Een medewerker van Bureau I&D behandelt je hulpvraag nu." in out[manager_sees:]
    assert "Hoe groot is je team?" in out[manager_sees:]
    assert "Noor" not in out[manager_sees : out.index("Je antwoord is naar het Bureau gestuurd.")]
    thread = out.rindex("== Je bent nu de Bureau-medewerker. ==")
    assert "Antwoord van de aanvrager op hulpvraag 1" in out[thread:]
    assert "Twaalf mensen." in out[thread:]
    assert "Traceback" not in out


def test_chat_ends_quietly_when_input_ends_at_a_cards_input(tmp_path: Path) -> None:
    # Piped input that stops while a button asks for a card's fields: end, no traceback.
    done = subprocess.run(
        [str(WEGWIJZER), "chat"],
        input="Ik wil hulp van het Bureau\n1\n",
        capture_output=True,
        text=True,
        env=chat_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert "Stap 1 van 5" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 0


def test_chat_sends_a_number_it_cannot_read_as_text_instead_of_failing(tmp_path: Path) -> None:
    # "²" passes str.isdigit but not int(): the chat ended with a traceback, at its prompt and
    # at a choice of a card's input.
    out = chat(tmp_path, ["1", "1", "²", "²"])  # the finder, Verder, a choice, the prompt
    assert "Traceback" not in out
    assert "Dat antwoord ken ik niet" in out
