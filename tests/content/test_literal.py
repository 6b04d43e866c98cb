"""What a person typed is shown as typed: Markdown in it is escaped, ordinary text left alone."""

from __future__ import annotations

import pytest

from content.templates import as_plain_text, literal

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
        ("[link](https://x)", "\\[link\\](https://x)"),
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
        ("![plaatje](https://x/y.png)", "!\\[plaatje\\](https://x/y.png)"),
    ],
)
def test_markdown_that_teams_would_format_is_escaped(typed: str, escaped: str) -> None:
    assert literal(typed) == escaped
    assert as_plain_text(literal(typed)) == typed  # what a reader sees: the text as typed


def test_a_value_that_is_not_text_is_shown_as_text() -> None:
    assert literal(14) == "14"
