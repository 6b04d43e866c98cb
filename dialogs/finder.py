"""The guided finder: four questions on cards, then the offers that fit and why."""

from __future__ import annotations

from collections.abc import Mapping

from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext

from content.loader import Catalog
from content.schema import Format, Need, Role
from dialogs.base import InterruptibleDialog
from dialogs.options import FlowOptions
from dialogs.prompts import CardChoicePrompt, CardQuestion
from dialogs.replies import Replies, lang_of
from dialogs.views import Views
from services.matching import FinderAnswers, recommend

STEPS = 4


class FinderOptions(FlowOptions):
    """The finder starts at its first question: it takes nothing from the button."""


class FinderDialog(InterruptibleDialog):
    """Asks role, theme, need and format; shows the top three offers with their reasons."""

    options_model = FinderOptions

    def __init__(self, replies: Replies, catalog: Catalog, links: Mapping[str, str]) -> None:
        super().__init__(FinderDialog.__name__, replies)
        self._catalog = catalog
        self._items = {item.id: item for item in catalog.items()}
        self._links = links
        self.add_dialog(CardChoicePrompt(CardChoicePrompt.__name__, replies))
        self.add_dialog(
            WaterfallDialog(
                WaterfallDialog.__name__,
                [
                    self.role_step,
                    self.theme_step,
                    self.need_step,
                    self.format_step,
                    self.result_step,
                ],
            )
        )
        self.initial_dialog_id = WaterfallDialog.__name__

    async def _ask(self, step: WaterfallStepContext, question: CardQuestion) -> DialogTurnResult:
        return await step.prompt(CardChoicePrompt.__name__, question.options())

    async def role_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        choices = [(role.value, f"role_{role.value}") for role in Role]
        return await self._ask(step, CardQuestion(1, STEPS, "finder_role_question", choices))

    async def theme_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["role"] = step.result
        lang = lang_of(step.context)
        choices = [(theme.id, theme.title(lang)) for theme in self._catalog.themes.values()]
        question = CardQuestion(2, STEPS, "finder_theme_question", choices, skippable=True)
        return await self._ask(step, question)

    async def need_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["theme"] = step.result
        choices = [(need.value, f"need_{need.value}") for need in Need]
        question = CardQuestion(3, STEPS, "finder_need_question", choices, skippable=True)
        return await self._ask(step, question)

    async def format_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["need"] = step.result
        choices = [(form.value, f"format_{form.value}") for form in Format]
        question = CardQuestion(4, STEPS, "finder_format_question", choices, skippable=True)
        return await self._ask(step, question)

    async def result_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values = step.values
        answers = FinderAnswers(
            role=Role(values["role"]),
            theme=values["theme"],
            need=Need(values["need"]) if values["need"] else None,
            format=Format(step.result) if step.result else None,
        )
        result = recommend(self._catalog, answers)
        lang = lang_of(step.context)
        views = Views(self.replies.templates, lang, self._links)
        card = self.replies.card(
            "recommendations",
            lang,
            **views.recommendations(result, self._items, self._catalog.themes),
        )
        await step.context.send_activity(card)
        return await step.end_dialog()
