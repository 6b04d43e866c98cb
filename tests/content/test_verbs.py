"""Card verbs are defined once (content/verbs.py); templates name them, never spell them."""

from __future__ import annotations

import re

from content.templates import CARDS_DIR, load_templates
from content.verbs import VERB_FIELD, Verb, verb_of

# A verb written out in a template: `"action": "menu"` or `"verb": "menu"`.
SPELLED_VERB = re.compile(rf'"(?:{VERB_FIELD}|verb)"\s*:\s*"')


def test_no_template_spells_a_verb() -> None:
    for path in sorted(CARDS_DIR.glob("*.j2")):
        assert not SPELLED_VERB.search(path.read_text(encoding="utf-8")), path.name


def test_every_menu_button_carries_a_known_verb() -> None:
    menu = load_templates().card("menu", "nl")
    rows = [e["actions"] for e in menu["body"] if e["type"] == "ActionSet"] + [menu["actions"]]
    verbs = [verb_of(action["data"][VERB_FIELD]) for row in rows for action in row]
    assert None not in verbs
    assert Verb.FINDER in verbs


def test_an_unknown_verb_is_none() -> None:
    assert verb_of("no-such") is None
    assert verb_of(7) is None
    assert verb_of("menu") is Verb.MENU
