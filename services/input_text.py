"""Text typed into a card, made fit to store and show: no control characters, one space.

Control characters have no place in a function, a theme, a place name or a help request's
text, and some do harm:
PostgreSQL refuses a NUL byte (the whole press would fail), an escape sequence or a bidi
override (U+202E) makes a name in the Bureau's table or CSV read differently from what is
stored. Each becomes a space; runs of white space become one (lines kept where asked).
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(value: str) -> str:
    """The text on one line, without control characters, single-spaced."""
    return " ".join(_CONTROL.sub(" ", value).split())


def lines_of(value: str) -> str:
    """The text's lines, each as `one_line` makes it, without empty lines at either end."""
    return "\n".join(one_line(line) for line in value.splitlines()).strip()
