"""A small valid toolkit that each test writes to tmp_path and breaks in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OFFER = """\
---
id: demo-offer
kind: offer
title: {nl: Demo-aanbod, en: Demo offer}
summary: {nl: Kort over het aanbod., en: Short about the offer.}
roles: [teammanager, afdelingsmanager]
themes: [demo-theme]
needs: [leren]
formats: [groep]
effort: {nl: Een dagdeel., en: Half a day.}
access: aanmelden
not_for:
  - role: directeur
    reason: {nl: Directeuren hebben een eigen programma., en: Directors have their own programme.}
    instead: demo-faq
related: [demo-faq]
keywords: [demo]
sources: [004_934020d365826eb4.txt]
---
De Nederlandse tekst.

<!-- en -->
The English text.
"""

THEME = """\
---
id: demo-theme
kind: theme
title: {nl: Demo-thema, en: Demo theme}
summary: {nl: Kort over het thema., en: Short about the theme.}
related: [demo-offer]
sources: [bureau]
---
Over het thema.
<!-- en -->
About the theme.
"""

FAQ = """\
---
id: demo-faq
kind: faq
title: {nl: Een vraag, en: A question}
summary: {nl: Het korte antwoord., en: The short answer.}
themes: [demo-theme]
related: [demo-offer, demo-theme]
sources: [000_1ca3b20ec217f7f0.txt, bureau]
---
Het antwoord.
<!-- en -->
The answer.
"""

SYNONYMS = """\
- [gesprek, dialoog]
- [weerbaarheid, assertiviteit, stevigheid]
"""


@dataclass(frozen=True)
class Toolkit:
    """A toolkit folder a test can edit file by file."""

    root: Path

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write(self, relative: str, text: str) -> Path:
        path = self.path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def replace(self, relative: str, old: str, new: str) -> Path:
        text = self.path(relative).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        return self.write(relative, text.replace(old, new, 1))

    def line_of(self, relative: str, needle: str) -> int:
        """Return the 1-based number of the first line of a file that contains needle."""
        lines = self.path(relative).read_text(encoding="utf-8").splitlines()
        return next(number for number, line in enumerate(lines, 1) if needle in line)


TRIAGE = """\
priority: {deze_week: hoog, deze_maand: normaal, geen_haast: laag}
safety_route: [demo-offer]
signals:
  - id: demo
    kind: ervaring
    label: {nl: Demo, en: Demo}
    when: [bedreigd]
"""


def write_demo_toolkit(root: Path) -> Toolkit:
    """Write one offer, one theme, one FAQ, two synonym groups and triage rules, all valid."""
    kit = Toolkit(root)
    kit.write("offers/demo-offer.md", OFFER)
    kit.write("themes/demo-theme.md", THEME)
    kit.write("faq/demo-faq.md", FAQ)
    kit.write("synoniemen.yaml", SYNONYMS)
    kit.write("triage.yaml", TRIAGE)
    return kit
