"""What a card question keeps in the dialog state."""

from __future__ import annotations

from dataclasses import asdict

from botbuilder.dialogs.prompts import PromptOptions

from dialogs.prompts import CardQuestion, _question

# Dialog state is written by storage.bot_state, which puts botbuilder's state classes
# (PromptOptions among them) on the codec's allow-list when it is imported; without it the codec
# refuses them. Imported here, not left to whichever test file happened to import it first.
from storage import bot_state as _registers_state_classes  # noqa: F401
from storage import state_codec

QUESTION = CardQuestion(
    step=2,
    steps=4,
    question_key="finder_theme_question",
    choices=[("bewustwording", "Bewustwording"), ("doorstroom", "Doorstroom")],
    skippable=True,
)


def test_a_question_is_stored_with_every_field_and_read_back_the_same() -> None:
    stored = QUESTION.options().validations
    assert set(stored) == set(asdict(QUESTION))  # a field added later must be stored too
    text = state_codec.dumps(QUESTION.options())
    assert "py/tuple" not in text  # choices are plain JSON arrays in the stored state
    assert _question(state_codec.restore(state_codec.loads(text))) == QUESTION


def test_a_question_stored_with_tuples_by_an_earlier_version_reads_back_the_same() -> None:
    earlier = PromptOptions(validations=asdict(QUESTION))  # choices as tuples
    text = state_codec.dumps(earlier)
    assert "py/tuple" in text
    assert _question(state_codec.restore(state_codec.loads(text))) == QUESTION
