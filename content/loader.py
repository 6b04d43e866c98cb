"""Load the toolkit into a read-only catalog, or refuse with every problem it has.

Call `load_catalog` once at start-up (in the composition root): bad content then stops the bot
before it answers anyone, never in the middle of a chat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from content.check import TOOLKIT_DIR, Problem, scan_toolkit
from content.schema import Faq, Offer, SynonymGroup, Theme, ToolkitItem

__all__ = ["TOOLKIT_DIR", "Catalog", "ContentError", "load_catalog"]


class ContentError(Exception):
    """The toolkit has problems; all of them are listed, so an editor can fix them in one go."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [f"the toolkit has {len(self.problems)} problem(s):", *map(str, self.problems)]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Catalog:
    """The offers, themes, FAQ and synonym groups of a valid toolkit, by id and in file order."""

    offers: Mapping[str, Offer]
    themes: Mapping[str, Theme]
    faqs: Mapping[str, Faq]
    synonyms: tuple[SynonymGroup, ...]

    def item(self, id: str) -> ToolkitItem:
        """Return the offer, theme or FAQ with this id; raise KeyError if there is none."""
        if id in self.offers:
            return self.offers[id]
        if id in self.themes:
            return self.themes[id]
        return self.faqs[id]

    def offers_with_sessions(self) -> list[str]:
        """The ids of the offers the Bureau plans dated sessions for (`sessions: true`)."""
        return [offer.id for offer in self.offers.values() if offer.sessions]

    def items(self) -> list[ToolkitItem]:
        """Return every item: offers first, then themes, then FAQ."""
        return [*self.offers.values(), *self.themes.values(), *self.faqs.values()]


def load_catalog(root: Path = TOOLKIT_DIR) -> Catalog:
    """Load and validate the toolkit at root; raise ContentError listing every problem."""
    scan = scan_toolkit(root)
    if scan.problems:
        raise ContentError(scan.problems)
    return Catalog(
        offers=MappingProxyType({i.id: i for i in scan.items if isinstance(i, Offer)}),
        themes=MappingProxyType({i.id: i for i in scan.items if isinstance(i, Theme)}),
        faqs=MappingProxyType({i.id: i for i in scan.items if isinstance(i, Faq)}),
        synonyms=tuple(scan.synonyms),
    )
