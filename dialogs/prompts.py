"""A question asked as a card with choices, answered by pressing it or by typing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from content.words import Words, load_words, normal
from dialogs.replies import Replies, lang_of

SKIP = "any"  # the value of the "weet ik niet" button
FIELD = "finder"  # the card input's id; the pressed value arrives under this key
MAX_ASK_CHARS = 600  # the most of a typed answer a card hands back as a free question


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


MISSES = "misses"  # in the prompt's state: how many answers in a row it did not understand
TYPED = "wegwijzer.finder_typed"  # in the turn state: the text this turn did not understand
MAX_CHOICE_NUMBER_DIGITS = 3  # a choice number is short; "²" or 5,000 digits are no number


def _misses(state: dict[str, object]) -> int:
    misses = state.get(MISSES, 0)
    return misses if isinstance(misses, int) else 0


class CardChoicePrompt(Prompt):
    """Sends the question card; accepts a pressed choice, a typed number or a typed label."""

    def __init__(self, dialog_id: str, replies: Replies, words: Words | None = None) -> None:
        super().__init__(dialog_id)
        self._replies = replies
        self._words = words or load_words()

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
            # After two answers in a row it did not understand, the bot offers to take the
            # typed text as a free question instead, or to stop.
            ask=turn_context.turn_state.get(TYPED, "") if is_retry and _misses(state) >= 2 else "",
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
            state[MISSES] = 0
        else:
            state[MISSES] = _misses(state) + 1
            text = turn_context.activity.text
            if isinstance(text, str) and text.strip():
                turn_context.turn_state[TYPED] = text.strip()[:MAX_ASK_CHARS]
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
        """The choice typed text means: its number, its label or value, or another word for it."""
        typed = normal(text)
        if not typed:
            return None
        # isdecimal and ASCII, not isdigit: "²" is a digit that int() refuses.
        if typed.isascii() and typed.isdecimal() and len(typed) <= MAX_CHOICE_NUMBER_DIGITS:
            number = int(typed)
            return choices[number - 1][0] if 0 < number <= len(choices) else None
        if skippable and (
            typed
            in (
                normal(self._replies.templates.text("finder_skip", "nl")),
                normal(self._replies.templates.text("finder_skip", "en")),
            )
            or typed in self._words.choice_words(SKIP)
        ):
            return SKIP
        for value, label in choices:
            if typed in (normal(label), normal(value)) or typed in self._words.choice_words(value):
                return value
        # A label or another word inside a sentence, of one choice only: "ik ben teamleider".
        padded = f" {typed} "
        inside = [
            value
            for value, label in choices
            if any(
                f" {phrase} " in padded
                for phrase in {normal(label), normal(value), *self._words.choice_words(value)}
            )
        ]
        if len(inside) == 1:
            return inside[0]
        # The words of one choice's label, and of no other: "afdeling", "lastige situatie".
        typed_words = set(typed.split())
        fitting = [
            value
            for value, label in choices
            if typed_words <= set(normal(label).split()) | set(normal(value).split())
        ]
        return fitting[0] if len(fitting) == 1 else None
