"""The pydantic schema of the toolkit content that Bureau I&D edits."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")

# Adaptive Cards stay readable (and under Teams' 28 KB limit) when texts stay short.
MAX_TITLE = 80
MAX_SUMMARY = 240
MAX_FIELD = 400
MAX_BODY = 3000

# A page's sources: the file name of a seed document (the Bureau's documents the bot may quote),
# or BUREAU for a statement that the Bureau still has to confirm.
BUREAU = "bureau"
SOURCE = r"^(bureau|[0-9]{3}_[0-9a-f]{16}\.txt)$"


class Role(StrEnum):
    TEAMMANAGER = "teammanager"
    AFDELINGSMANAGER = "afdelingsmanager"
    DIRECTEUR = "directeur"
    TREKKER = "trekker"
    MEDEWERKER = "medewerker"


class Need(StrEnum):
    DILEMMA = "dilemma"  # an acute dilemma, now
    LEREN = "leren"  # to learn
    TEAMGESPREK = "teamgesprek"  # a conversation with their team
    ROL = "rol"  # help with their role


class Format(StrEnum):
    GROEP = "groep"
    EEN_OP_EEN = "een_op_een"
    TEAM = "team"
    ZELFSTUDIE = "zelfstudie"


class Access(StrEnum):
    """How a person gets an offer; decides the next-step button."""

    AANMELDEN = "aanmelden"  # sign up in the bot
    SELECTIE = "selectie"  # sign up; the Bureau selects the participants
    AANVRAGEN = "aanvragen"  # request via the Bureau
    LINK = "link"  # follow a link (a setting, never invented here)
    INFO = "info"  # information only


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Text(Strict):
    """A text in Dutch (the source) and English."""

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.nl


def _short(limit: int):  # type: ignore[no-untyped-def]
    def check(value: Text) -> Text:
        for lang in LANGS:
            if len(value(lang)) > limit:
                raise ValueError(f"text too long for a card ({lang}: {len(value(lang))} > {limit})")
        return value

    return check


class Exclusion(Strict):
    """A role an offer is not for, why, and where that person goes instead."""

    role: Role
    reason: Text
    instead: str | None = None  # id of another item

    _reason_len = field_validator("reason")(_short(MAX_FIELD))


class Item(Strict):
    """What every toolkit file has: an id, a title, a summary, themes and a body."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Text
    summary: Text
    themes: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)  # ids of other items
    sources: list[Annotated[str, Field(pattern=SOURCE)]] = Field(min_length=1)
    body: Text  # Markdown, filled from the file's body

    _title_len = field_validator("title")(_short(MAX_TITLE))
    _summary_len = field_validator("summary")(_short(MAX_SUMMARY))
    _body_len = field_validator("body")(_short(MAX_BODY))

    @property
    def to_confirm(self) -> bool:
        """Whether the Bureau still has to confirm part of this page."""
        return BUREAU in self.sources


class Offer(Item):
    kind: Literal["offer"] = "offer"
    roles: list[Role] = Field(min_length=1)
    needs: list[Need] = Field(min_length=1)
    formats: list[Format] = Field(min_length=1)
    effort: Text  # what it takes: time, number of sessions
    capacity: int | None = Field(default=None, gt=0)
    access: Access
    link_setting: str | None = None  # name of the setting that holds the link
    not_for: list[Exclusion] = Field(default_factory=list)
    # The Bureau plans dated sessions for it (places, waiting list, reminders); only with access
    # `aanmelden`, since people sign up for a session in the bot.
    sessions: bool = False

    _effort_len = field_validator("effort")(_short(MAX_FIELD))


class Theme(Item):
    kind: Literal["theme"] = "theme"


class Faq(Item):
    kind: Literal["faq"] = "faq"


ToolkitItem = Offer | Theme | Faq


class SynonymGroup(Strict):
    """Words a manager may use for the same thing; the search treats them as one."""

    words: list[str] = Field(min_length=2)
