"""A question asked as a card with choices, answered by pressing it or by typing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from dialogs.replies import Replies, lang_of

SKIP = "any"  # the value of the "weet ik niet" button
FIELD = "finder"  # the card input's id; the pressed value arrives under this key


@dataclass(frozen=True)
class CardQuestion:
    """What a card question needs; small, because it is kept in the dialog state between turns."""

    step: int
    steps: int
    question_key: str  # message key of the question text
    choices: list[tuple[str, str]]  # (value, message key of its label, or a literal label)
    skippable: bool = False

    def options(self) -> PromptOptions:
        # Spelled out rather than dataclasses.asdict, which deep-copies every choice recursively.
        return PromptOptions(
            validations={
                "step": self.step,
                "steps": self.steps,
                "question_key": self.question_key,
                # As lists: JSON arrays in the stored state, where tuples are tagged objects.
                "choices": [list(choice) for choice in self.choices],
                "skippable": self.skippable,
            }
        )


def _question(options: PromptOptions) -> CardQuestion:
    raw: dict[str, Any] = dict(options.validations)
    raw["choices"] = [tuple(choice) for choice in raw["choices"]]
    return CardQuestion(**raw)


def _normal(text: str) -> str:
    return " ".join(text.casefold().replace(".", " ").split())


class CardChoicePrompt(Prompt):
    """Sends the question card; accepts a pressed choice, a typed number or a typed label."""

    def __init__(self, dialog_id: str, replies: Replies) -> None:
        super().__init__(dialog_id)
        self._replies = replies

    def _labels(self, question: CardQuestion, turn_context: TurnContext) -> list[tuple[str, str]]:
        lang = lang_of(turn_context)
        templates = self._replies.templates
        return [
            (value, templates.text(label, lang) if label in templates.messages[lang] else label)
            for value, label in question.choices
        ]

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        question = _question(options)
        lang = lang_of(turn_context)
        card = self._replies.card(
            "question",
            lang,
            step=question.step,
            steps=question.steps,
            question=self._replies.templates.text(question.question_key, lang),
            choices=self._labels(question, turn_context),
            skippable=question.skippable,
            retry=is_retry,
        )
        await turn_context.send_activity(card)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        question = _question(options)
        choices = self._labels(question, turn_context)
        values = [value for value, _ in choices]
        if question.skippable:
            values.append(SKIP)
        answer = self._pressed(turn_context.activity.value, question)
        if answer is None and turn_context.activity.text:
            answer = self._typed(turn_context.activity.text, choices, question.skippable)
        result = PromptRecognizerResult()
        if answer in values:
            result.succeeded = True
            result.value = None if answer == SKIP else answer
        return result

    @staticmethod
    def _pressed(value: object, question: CardQuestion) -> str | None:
        if not isinstance(value, Mapping) or not isinstance(value.get(FIELD), str):
            return None
        # A button on an older card of this flow answers an older question: not this one.
        if "step" in value and value["step"] != question.step:
            return None
        return str(value[FIELD])

    def _typed(self, text: str, choices: list[tuple[str, str]], skippable: bool) -> str | None:
        typed = _normal(text)
        if typed.isdigit() and 0 < int(typed) <= len(choices):
            return choices[int(typed) - 1][0]
        for value, label in choices:
            if typed in (_normal(label), _normal(value)):
                return value
        if skippable and typed in (
            _normal(self._replies.templates.text("finder_skip", "nl")),
            _normal(self._replies.templates.text("finder_skip", "en")),
        ):
            return SKIP
        return None
