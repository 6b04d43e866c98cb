"""A step that asks for one or more inputs on a card, answered by submitting it or by typing.

Typing works when the step asks one thing: the text itself, or a choice's number or label. The
answer is checked here (required, length, choice, number range); on a bad answer the card comes
again with what to fix, and nothing moves on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from dialogs.replies import Replies, lang_of

STOPPED = "stopped"  # the value of a form whose Stop button was pressed
_ERROR = "form_error"  # where the last refusal waits for the re-prompt, in the prompt's state


@dataclass(frozen=True)
class FormField:
    id: str
    kind: str  # "text", "multiline", "choice" or "number"
    label: str  # already in the user's language
    required: bool = True
    max: int = 0  # text: the most characters; number: the highest value
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    value: str | None = None
    # The value is sealed (FormPrompt's sealer encrypted it): the form waits in the dialog state,
    # and free text must never sit there in plain. Opened only to draw the card.
    sealed: bool = False


class Sealer(Protocol):
    def encrypt(self, text: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


@dataclass(frozen=True)
class Form:
    """A form card; kept in the dialog state while it waits, so plain data only."""

    form: str  # names the step: a button on an older card answers nothing here
    title: str
    submit: str
    fields: list[FormField]
    step: int = 0
    steps: int = 0
    intro: list[str] = field(default_factory=list)
    sections: list[dict[str, str]] = field(default_factory=list)  # {"title", "text"}

    def options(self) -> PromptOptions:
        return PromptOptions(
            validations={
                "form": self.form,
                "title": self.title,
                "submit": self.submit,
                "fields": [
                    {**f.__dict__, "choices": [list(c) for c in f.choices]} for f in self.fields
                ],
                "step": self.step,
                "steps": self.steps,
                "intro": list(self.intro),
                "sections": [dict(s) for s in self.sections],
            }
        )


def _form(options: PromptOptions) -> Form:
    raw: dict[str, Any] = dict(options.validations)
    fields = [
        FormField(**{**f, "choices": [tuple(c) for c in f["choices"]]}) for f in raw.pop("fields")
    ]
    return Form(fields=fields, **raw)


class FormPrompt(Prompt):
    """Sends the form card; succeeds with {field id: value}, or STOPPED when Stop is pressed."""

    def __init__(self, dialog_id: str, replies: Replies, sealer: Sealer | None = None) -> None:
        super().__init__(dialog_id)
        self._replies = replies
        self._sealer = sealer

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        form = _form(options)
        lang = lang_of(turn_context)
        error = state.pop(_ERROR, None) if is_retry else None
        text = self._replies.templates.text
        card = self._replies.card(
            "form",
            lang,
            form=form.form,
            title=form.title,
            submit=form.submit,
            fields=[{**f.__dict__, "value": self._shown(f)} for f in form.fields],
            step=form.step,
            steps=form.steps,
            intro=form.intro,
            sections=form.sections,
            error=text(error[0], lang, **error[1]) if isinstance(error, list) else None,
        )
        await turn_context.send_activity(card)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        form = _form(options)
        result = PromptRecognizerResult()
        value = turn_context.activity.value
        if isinstance(value, Mapping) and value.get("form") == form.form:
            if value.get("stop"):
                result.succeeded, result.value = True, STOPPED
                return result
            answers = {f.id: _as_text(value.get(f.id)) for f in form.fields}
        elif not value and turn_context.activity.text and len(form.fields) == 1:
            only = form.fields[0]
            answers = {only.id: _typed(turn_context.activity.text, only)}
        else:
            answers = None
        error = _refusal(form.fields, answers) if answers is not None else None
        if answers is not None and error is None:
            result.succeeded, result.value = True, answers
        else:
            state[_ERROR] = list(error or ("intake_retry_required", {}))
        return result

    def _shown(self, form_field: FormField) -> str | None:
        if not form_field.sealed or form_field.value is None:
            return form_field.value
        if self._sealer is None:
            raise ValueError("a form with a sealed value needs a prompt with a sealer")
        return self._sealer.decrypt(form_field.value)


def _as_text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _typed(text: str, only: FormField) -> str:
    typed = text.strip()
    if only.kind != "choice":
        return typed
    normal = typed.casefold().rstrip(".")
    if normal.isdigit() and 0 < int(normal) <= len(only.choices):
        return only.choices[int(normal) - 1][0]
    for value, label in only.choices:
        if normal in (label.casefold(), value.casefold()):
            return value
    return typed


def _refusal(
    fields: list[FormField], answers: Mapping[str, str]
) -> tuple[str, dict[str, Any]] | None:
    """The message key and values that say what to fix, or None when every answer is fine."""
    for f in fields:
        answer = answers.get(f.id, "")
        if not answer:
            if f.required:
                return "intake_retry_required", {}
            continue
        if f.kind == "choice" and answer not in [value for value, _ in f.choices]:
            return "intake_retry_choice", {}
        if f.kind == "number" and not _whole_number_up_to(answer, f.max):
            return "intake_retry_number", {"max": f.max}
        if f.kind in ("text", "multiline") and len(answer) > f.max:
            return "intake_retry_too_long", {"max": f.max}
    return None


def _whole_number_up_to(answer: str, highest: int) -> bool:
    """Whether `answer` is a whole number from 1 to `highest`, in ASCII digits.

    Not str.isdigit: it accepts "²", which int() refuses, and int() refuses a number of more
    than 4,300 digits; either was an error in the turn instead of the retry.
    """
    return (
        answer.isascii()
        and answer.isdecimal()
        and len(answer) <= len(str(highest))
        and 1 <= int(answer) <= highest
    )
