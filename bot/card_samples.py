"""Sample values for every card template, in one place: the dev chat gallery draws each with them.

A new template under content/cards/ adds its samples here (tests/devchat fails until it does):
a name for the sample and a function from a `SampleKit` to the template's values. Build the values
the way the bot does (with `Views` and the real toolkit) where the bot does, so the gallery shows
what a person will see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.bureau_samples import bureau_samples
from bot.requester_samples import requester_samples
from bot.session_samples import session_samples
from content.loader import Catalog
from content.schema import LANGS, Lang, Need, Role
from content.templates import Templates
from dialogs.contact import BureauContact
from dialogs.views import Views
from services.matching import FinderAnswers, recommend

SAMPLE_LINKS = {"TOOLKIT_ID_URL": "https://example.invalid/toolkit"}


@dataclass(frozen=True)
class SampleKit:
    """What a sample may use: the language, the real toolkit and the bot's views."""

    lang: Lang
    templates: Templates
    catalog: Catalog
    views: Views

    def text(self, key: str, **values: Any) -> str:
        return self.templates.text(key, self.lang, **values)


Sample = Callable[[SampleKit], dict[str, Any]]


def _question(kit: SampleKit) -> dict[str, Any]:
    return {
        "step": 1,
        "steps": 4,
        "question": kit.text("finder_role_question"),
        "choices": [(role.value, kit.text(f"role_{role.value}")) for role in Role],
        "skippable": False,
        "retry": False,
    }


def _question_retry(kit: SampleKit) -> dict[str, Any]:
    return {**_question(kit), "step": 3, "skippable": True, "retry": True}


def _second_miss(kit: SampleKit) -> dict[str, Any]:
    return {**_question_retry(kit), "ask": "hoe voer ik een moeilijk gesprek"}


def _contact(contact: BureauContact, intro_key: str | None) -> Sample:
    return lambda kit: {"intro": kit.text(intro_key) if intro_key else "", **contact.values()}


def _recommendations(role: Role, need: Need | None) -> Sample:
    def sample(kit: SampleKit) -> dict[str, Any]:
        items = {item.id: item for item in kit.catalog.items()}
        result = recommend(kit.catalog, FinderAnswers(role=role, need=need))
        return kit.views.recommendations(result, items, kit.catalog.themes)

    return sample


def _item(kit: SampleKit) -> dict[str, Any]:
    items = {item.id: item for item in kit.catalog.items()}
    # The item with the most to show: facts, a next step and related items.
    item = max(items.values(), key=lambda i: (len(i.related), len(i.body(kit.lang))))
    return kit.views.item(item, items)


def _answers(kit: SampleKit) -> dict[str, Any]:
    items = kit.catalog.items()[:2]
    hits = [
        {
            "title": item.title(kit.lang),
            "kind": kit.views.kind(item),
            "summary": item.summary(kit.lang),
            "why": kit.text("finder_why", reasons="..."),
            "buttons": [kit.views.more_button(item)],
        }
        for item in items
    ]
    return {"hits": hits}


def _intake_step(kit: SampleKit) -> dict[str, Any]:
    """The intake's step 3 of 5 for a question, as `dialogs.help_request` asks it."""
    field = {
        "id": "theme",
        "kind": "choice",
        "label": kit.text("intake_theme_label"),
        "required": True,
        "max": 0,
        "choices": [(theme.id, theme.title(kit.lang)) for theme in kit.catalog.themes.values()],
        "value": next(iter(kit.catalog.themes)),
    }
    return {
        "form": "theme",
        "title": kit.text("intake_theme_title"),
        "submit": kit.text("intake_next"),
        "fields": [field],
        "step": 3,
        "steps": 5,
        "intro": [],
        "sections": [],
        "error": None,
    }


def _intake_summary(kit: SampleKit) -> dict[str, Any]:
    """The summary with the privacy notice, after a refused answer."""
    text = {
        "id": "text",
        "kind": "multiline",
        "label": kit.text("intake_text_title"),
        "required": True,
        "max": 1000,
        "choices": [],
        "value": "Hoe krijg ik mijn team mee in het gesprek over inclusie?",
    }
    size = {**text, "id": "team_size", "kind": "number", "max": 500, "value": "12"}
    return {
        **_intake_step(kit),
        "form": "summary",
        "title": kit.text("intake_summary_title"),
        "submit": kit.text("intake_send"),
        "fields": [text, size],
        "step": 5,
        "intro": [kit.text("intake_summary_intro")],
        "sections": [
            {"title": kit.text("intake_privacy_title"), "text": kit.text("intake_privacy_text")}
        ],
        "error": kit.text("intake_retry_required"),
    }


def _safety_route(acute: bool) -> Sample:
    def sample(kit: SampleKit) -> dict[str, Any]:
        offer = kit.catalog.offers["vertrouwenspersoon"]
        return {
            "acute": acute,
            "items": [
                {
                    "title": offer.title(kit.lang),
                    "summary": offer.summary(kit.lang),
                    "links": [
                        {"title": kit.text("action_open_link"), "url": "https://example.invalid/vp"}
                    ],
                }
            ],
        }

    return sample


def _problem(problem: str) -> Sample:
    return lambda kit: {"problem": problem}


# Template name -> (sample name, values). Every template has at least one.
SAMPLES: Mapping[str, tuple[tuple[str, Sample], ...]] = {
    "welcome": (("welcome", lambda kit: {}),),
    "menu": (
        ("menu", lambda kit: {}),
        ("in a group chat", lambda kit: {"shared": "groupChat"}),
        ("in a channel", lambda kit: {"shared": "channel"}),
    ),
    "question": (
        ("first question", _question),
        ("retry, skippable", _question_retry),
        ("second miss: ask it as a question, or stop", _second_miss),
    ),
    "contact": (
        (
            "a flow not there yet, e-mail and page set",
            _contact(
                BureauContact("bureau@example.invalid", "https://example.invalid/bureau"),
                "not_yet_apply",
            ),
        ),
        ("no contact filled in", _contact(BureauContact(), None)),
    ),
    "recommendations": (
        ("team manager, dilemma", _recommendations(Role.TEAMMANAGER, Need.DILEMMA)),
        ("director (with what is not for them)", _recommendations(Role.DIRECTEUR, Need.DILEMMA)),
    ),
    "item": (("toolkit item", _item),),
    "answers": (("two hits", _answers),),
    "no_answer": (("nothing found", lambda kit: {}),),
    "form": (("intake step", _intake_step), ("summary, after a refusal", _intake_summary)),
    "safety_route": (
        ("experience", _safety_route(acute=False)),
        ("acute", _safety_route(acute=True)),
        (
            "before a free question's answers",
            lambda kit: {**_safety_route(False)(kit), "question": True},
        ),
    ),
    "action_problem": tuple(
        (problem, _problem(problem))
        for problem in ("action_unknown", "action_refused", "action_personal_only", "action_stale")
    ),
    **session_samples(),
    **requester_samples(),
    **bureau_samples(),
}


def sample_cards(templates: Templates, catalog: Catalog) -> list[dict[str, Any]]:
    """Every template rendered with each of its samples, in every language, for the gallery.

    A template without a sample, or one that fails to render, is listed with an `error`.
    """
    cards: list[dict[str, Any]] = []
    for lang in LANGS:
        kit = SampleKit(lang, templates, catalog, Views(templates, lang, SAMPLE_LINKS))
        for name in sorted(templates.cards):
            samples = SAMPLES.get(name, ())
            if not samples:
                cards.append({"template": name, "lang": lang, "sample": "", "error": "no sample"})
            for label, sample in samples:
                entry: dict[str, Any] = {"template": name, "lang": lang, "sample": label}
                try:
                    entry["card"] = templates.card(name, lang, **sample(kit))
                except Exception as error:  # shown in the gallery, which then fails its test
                    entry["error"] = f"{type(error).__name__}: {error}"
                cards.append(entry)
    return cards
