"""What a person typed is shown as typed: Markdown in it is escaped, ordinary text left alone."""

from __future__ import annotations

import pytest

from content.templates import INVISIBLE_BREAK, as_plain_text, literal

ORDINARY = [
    'Wat doe je als een collega (of 2) zegt: "Dat kan niet!"? Het kost 5-10 minuten.',
    "Bureau I&D, afdeling P&O, e-mail: s.devries@gemeente.nl. Bel me om 14.30 uur.",
    "Ik weet het niet... Misschien? 50% van het team, 3 + 4 mensen, #2 op de lijst.",
    "Sanne de Vries-Bakker",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_and_punctuation_stay_as_they_are(text: str) -> None:
    assert literal(text) == text


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("[link](https://x)", "\\[link\\](https:/\u2060/x)"),
        ("**bold**", "\\*\\*bold\\*\\*"),
        ("# heading", "\\# heading"),
        ("- list", "\\- list"),
        ("<at>Fatima</at>", "\\<at>Fatima\\</at>"),
        (
            "eerst\n1. een\n  2) twee\n+ plus\n> quote\n===",
            "eerst\n1\\. een\n  2\\) twee\n\\+ plus\n\\> quote\n\\===",
        ),
        ("_schuin_ ~~weg~~ `code` a|b \\", "\\_schuin\\_ \\~\\~weg\\~\\~ \\`code\\` a\\|b \\\\"),
        ("&amp; &#42; maar I&D", "\\&amp; \\&#42; maar I&D"),
        ("![plaatje](https://x/y.png)", "!\\[plaatje\\](https:/\u2060/x/y.png)"),
    ],
)
def test_markdown_that_teams_would_format_is_escaped(typed: str, escaped: str) -> None:
    assert literal(typed) == escaped
    assert as_plain_text(literal(typed)) == typed  # what a reader sees: the text as typed


def test_a_value_that_is_not_text_is_shown_as_text() -> None:
    assert literal(14) == "14"


@pytest.mark.parametrize(
    "typed",
    [
        "Kom {{DATE(2026-01-01T00:00:00Z)}} om {{TIME(2026-01-01T09:00:00Z)}}",
        "{{{DATE(2026-01-01T00:00:00+01:00, LONG)}}}",
        "Zie https://evil.example/pad, HTTP://EVIL.EXAMPLE en //evil.example",
        "Zie www.evil.example, WWW.evil.example of _www.evil.example",
    ],
)
def test_what_teams_would_show_as_a_date_or_a_link_is_broken_apart_invisibly(typed: str) -> None:
    shown = literal(typed)
    assert "{{" not in shown and "//" not in shown and "www." not in shown.lower()
    assert as_plain_text(shown) == typed  # what a reader sees: the text as typed
    assert INVISIBLE_BREAK in shown
