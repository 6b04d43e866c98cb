"""What a card question keeps in the dialog state."""

from __future__ import annotations

from dataclasses import asdict

from dialogs.prompts import CardQuestion, _question


def test_a_question_is_stored_with_every_field_and_read_back_the_same() -> None:
    question = CardQuestion(
        step=2,
        steps=4,
        question_key="finder_theme_question",
        choices=[("bewustwording", "Bewustwording"), ("doorstroom", "Doorstroom")],
        skippable=True,
    )
    stored = question.options().validations
    assert stored == asdict(question)  # a field added later must be stored too
    assert _question(question.options()) == question
