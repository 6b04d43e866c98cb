"""The intake of a help request to Bureau I&D: a few short steps, a summary, then it is sent.

Two kinds: a question for the Bureau, and a request for a gespreksbegeleider with its own fields.
The safety route is shown at once when the text signals an acute situation or a personal
experience of discrimination, threat or unsafety. Nothing is stored until the requester
confirms the summary; stopping at any step stores nothing. While the intake runs, its free text
waits in the dialog state sealed (encrypted), never in plain.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext

from content.loader import Catalog
from content.schema import Lang, Role
from content.triage_rules import SignalKind, Urgency
from dialogs.base import InterruptibleDialog
from dialogs.form_prompt import STOPPED, Form, FormField, FormPrompt, Sealer
from dialogs.options import FlowOptions
from dialogs.replies import Replies, lang_of
from dialogs.views import Views
from services.help_desk import HelpDesk
from services.help_request_actions import HelpRequestRefused
from services.help_requests import (
    MAX_DETAIL_TEXT,
    MAX_REQUEST_TEXT,
    MAX_TEAM_SIZE,
    ContactPreference,
    NewHelpRequest,
    Person,
    RequestKind,
    Suggestion,
    new_submission,
)
from services.input_text import lines_of, one_line

log = logging.getLogger(__name__)

MAX_DIRECTORATE = 100
SEALED = ("text", "weeks", "notes")  # the free text the dialog state holds only encrypted
NO_THEME = "none"
# The typed fields, made fit to store: no control characters (a NUL byte, a bidi override);
# the multi-line ones keep their lines.
TYPED = {"text": lines_of, "notes": lines_of, "weeks": one_line, "directorate": one_line}


def typed(answers: Mapping[str, Any]) -> dict[str, Any]:
    """A form's answers with its typed fields cleaned (`services.input_text`)."""
    return {
        name: TYPED[name](value) if name in TYPED and isinstance(value, str) else value
        for name, value in answers.items()
    }


def kind_of(options: Mapping[str, Any]) -> RequestKind | None:
    """The kind a button asked for: an offer's "request" button names the offer."""
    if options.get("offer") == "gespreksbegeleider":
        return RequestKind.GESPREKSBEGELEIDER
    kind = options.get("kind")
    return RequestKind(kind) if kind in set(RequestKind) else None


class HelpRequestOptions(FlowOptions):
    """What a button may start the intake with: the kind, or the offer it is about."""

    kind: RequestKind | None = None
    offer: str | None = None


class HelpRequestDialog(InterruptibleDialog):
    """Asks what is going on, the theme and who is asking; confirms; sends it to the Bureau."""

    options_model = HelpRequestOptions
    stop_message = "intake_stopped"  # typed 'stop': say that nothing was stored or sent

    def __init__(
        self,
        replies: Replies,
        *,
        help_desk: HelpDesk,
        catalog: Catalog,
        links: Mapping[str, str],
        sealer: Sealer,
    ) -> None:
        super().__init__(HelpRequestDialog.__name__, replies)
        self._desk = help_desk
        self._catalog = catalog
        self._links = links
        self._sealer = sealer
        self.add_dialog(FormPrompt(FormPrompt.__name__, replies, sealer))
        steps = [self.kind_step, self.text_step, self.theme_step, self.team_step, self.who_step]
        self.add_dialog(WaterfallDialog("intake", [*steps, self.to_summary_step]))
        self.add_dialog(WaterfallDialog("summary", [self.summary_step, self.confirm_step]))
        self.initial_dialog_id = "intake"

    # -- the steps

    async def kind_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        kind = kind_of(step.options or {})
        if kind is not None:
            step.values["asked_kind"] = False
            return await step.next({"kind": kind.value})
        step.values["asked_kind"] = True
        lang = lang_of(step.context)
        choices = [
            (RequestKind.QUESTION.value, self._t("intake_kind_bureau", lang)),
            (RequestKind.GESPREKSBEGELEIDER.value, self._t("intake_kind_begeleider", lang)),
        ]
        field = FormField("kind", "choice", self._t("intake_kind_question", lang), choices=choices)
        return await self._ask(step, "kind", "intake_kind_question", [field])

    async def text_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == STOPPED:
            return await self._stop(step)
        step.values["kind"] = step.result["kind"]
        lang = lang_of(step.context)
        begeleider = self._kind(step) is RequestKind.GESPREKSBEGELEIDER
        label = "intake_topic_label" if begeleider else "intake_text_label"
        title = "intake_topic_title" if begeleider else "intake_text_title"
        field = FormField(
            "text", "multiline", self._t(label, lang, max=MAX_REQUEST_TEXT), max=MAX_REQUEST_TEXT
        )
        return await self._ask(step, "text", title, [field])

    async def theme_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == STOPPED:
            return await self._stop(step)
        text = lines_of(step.result["text"])
        step.values["text"] = self._sealer.encrypt(text)
        await self._safety_route(step, text)
        lang = lang_of(step.context)
        suggested = self._desk.triage.theme(text)
        field = FormField(
            "theme",
            "choice",
            self._t("intake_theme_label", lang),
            choices=self._theme_choices(lang, suggested),
            value=suggested,
        )
        return await self._ask(step, "theme", "intake_theme_title", [field])

    async def team_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == STOPPED:
            return await self._stop(step)
        step.values["theme"] = step.result["theme"]
        if self._kind(step) is not RequestKind.GESPREKSBEGELEIDER:
            return await step.next({})
        lang = lang_of(step.context)
        return await self._ask(step, "team", "intake_team_title", self._team_fields(lang, {}))

    async def who_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == STOPPED:
            return await self._stop(step)
        self._keep_team(step.values, typed(step.result))
        lang = lang_of(step.context)
        known = await self._as_last_time(step)
        return await self._ask(step, "who", "intake_who_title", self._who_fields(lang, known))

    async def to_summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == STOPPED:
            return await self._stop(step)
        step.values.update(typed(step.result))
        return await step.replace_dialog("summary", dict(step.values))

    async def summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        values: dict[str, Any] = dict(step.options)
        # One key per request: Versturen pressed twice, or a delivery Teams retries, stores one.
        values.setdefault("submission", new_submission())
        step.values.update(values)
        lang = lang_of(step.context)
        # The form waits in the dialog state: its free text stays sealed there (FormField.sealed).
        fields = [
            FormField(
                "text",
                "multiline",
                self._t("intake_text_title", lang),
                max=MAX_REQUEST_TEXT,
                value=values["text"],
                sealed=True,
            ),
            FormField(
                "theme",
                "choice",
                self._t("intake_theme_title", lang),
                choices=self._theme_choices(lang, None),
                value=values.get("theme"),
            ),
        ]
        if self._kind(step) is RequestKind.GESPREKSBEGELEIDER:
            fields += self._team_fields(lang, values)
        fields += self._who_fields(lang, values)
        form = Form(
            form="summary",
            title=self._t("intake_summary_title", lang),
            submit=self._t("intake_send", lang),
            fields=fields,
            step=self._steps(step),
            steps=self._steps(step),
            intro=[self._t("intake_summary_intro", lang)],
            sections=[
                {
                    "title": self._t("intake_privacy_title", lang),
                    "text": self._t("intake_privacy_text", lang),
                }
            ],
        )
        return await step.prompt(FormPrompt.__name__, form.options())

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result == STOPPED:
            return await self._stop(step)
        answers: dict[str, str] = typed(step.result)
        values = dict(step.values)
        values["text"] = self._sealer.encrypt(answers["text"])
        self._keep_team(values, answers)
        values.update(
            {k: answers[k] for k in ("theme", "directorate", "role", "urgency", "contact")}
        )
        lang = lang_of(step.context)
        if not step.values.get("safety_shown"):
            values["safety_shown"] = await self._safety_route(step, answers["text"])
        try:
            stored = await self._desk.submit(self._request(step, values))
        except HelpRequestRefused:
            # The form checks what the service checks; this is a defence, said plainly.
            await step.context.send_activity(self.replies.text("intake_retry_required", lang))
            return await step.replace_dialog("summary", values)
        except Exception as error:  # the database failed: keep what they typed, let them resend
            log.warning("help request not stored: %s", type(error).__name__)
            await step.context.send_activity(self.replies.text("intake_failed", lang))
            return await step.replace_dialog("summary", values)
        await step.context.send_activity(self.replies.text("intake_sent", lang, number=stored.id))
        return await step.end_dialog()

    # -- helpers

    def _t(self, key: str, lang: Lang, **values: Any) -> str:
        return self.replies.templates.text(key, lang, **values)

    def _kind(self, step: WaterfallStepContext) -> RequestKind:
        return RequestKind(step.values["kind"])

    def _steps(self, step: WaterfallStepContext) -> int:
        """Steps in all: text, theme, (team), who, summary, and the kind when it was asked."""
        begeleider = self._kind(step) is RequestKind.GESPREKSBEGELEIDER
        return 4 + int(begeleider) + int(bool(step.values.get("asked_kind")))

    def _step_number(self, step: WaterfallStepContext, name: str) -> int:
        order = ["kind", "text", "theme", "team", "who"]
        if not step.values.get("asked_kind"):
            order.remove("kind")
        if self._kind_or_none(step) is not RequestKind.GESPREKSBEGELEIDER:
            order.remove("team")
        return order.index(name) + 1 if name in order else 1

    def _kind_or_none(self, step: WaterfallStepContext) -> RequestKind | None:
        kind = step.values.get("kind")
        return RequestKind(kind) if kind else None

    async def _ask(
        self, step: WaterfallStepContext, name: str, title: str, fields: list[FormField]
    ) -> DialogTurnResult:
        lang = lang_of(step.context)
        # Before the kind is chosen, count the shorter way: a question for the Bureau.
        total = self._steps(step) if self._kind_or_none(step) else 5
        form = Form(
            form=name,
            title=self._t(title, lang),
            submit=self._t("intake_next", lang),
            fields=fields,
            step=self._step_number(step, name),
            steps=total,
        )
        return await step.prompt(FormPrompt.__name__, form.options())

    async def _as_last_time(self, step: WaterfallStepContext) -> dict[str, str]:
        """Directorate, role and contact as the requester gave them last time, to change or keep."""
        sender = step.context.activity.from_property
        requester = (sender.aad_object_id or sender.id) if sender is not None else None
        if not requester:
            return {}
        try:
            mine = await self._desk.mine(requester)
        except Exception as error:  # a convenience only: without it the fields start empty
            log.warning("earlier requests not read: %s", type(error).__name__)
            return {}
        if not mine:
            return {}
        last = mine[0]
        return {
            "directorate": last.directorate,
            "role": last.role.value,
            "contact": last.contact.value,
        }

    async def _stop(self, step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(self.replies.text("intake_stopped", lang_of(step.context)))
        return await step.end_dialog()

    async def _safety_route(self, step: WaterfallStepContext, text: str) -> bool:
        """Show the way to the counsellor and the reporting routes at once if a signal fires."""
        signals = self._desk.triage.signals(text)
        if not signals:
            return False
        step.values["safety_shown"] = True
        lang = lang_of(step.context)
        views = Views(self.replies.templates, lang, self._links)
        route = [self._catalog.item(item) for item in self._desk.triage.rules.safety_route]
        card = self.replies.card(
            "safety_route",
            lang,
            acute=any(signal.kind is SignalKind.ACUUT for signal in signals),
            items=views.safety_route(route),
        )
        await step.context.send_activity(card)
        return True

    def _theme_choices(self, lang: Lang, suggested: str | None) -> list[tuple[str, str]]:
        themes = list(self._catalog.themes.values())
        choices: list[tuple[str, str]] = []
        for theme in themes:
            title = theme.title(lang)
            if theme.id == suggested:
                choices.insert(0, (theme.id, self._t("intake_theme_suggested", lang, title=title)))
            else:
                choices.append((theme.id, title))
        return [*choices, (NO_THEME, self._t("intake_theme_other", lang))]

    def _team_fields(self, lang: Lang, values: Mapping[str, Any]) -> list[FormField]:
        size = values.get("team_size")
        return [
            FormField(
                "team_size",
                "number",
                self._t("intake_team_size_label", lang),
                max=MAX_TEAM_SIZE,
                value=str(size) if size else None,
            ),
            FormField(
                "weeks",
                "text",
                self._t("intake_weeks_label", lang, max=MAX_DETAIL_TEXT),
                max=MAX_DETAIL_TEXT,
                value=values.get("weeks"),
                sealed=True,
            ),
            FormField(
                "notes",
                "multiline",
                self._t("intake_notes_label", lang, max=MAX_DETAIL_TEXT),
                required=False,
                max=MAX_DETAIL_TEXT,
                value=values.get("notes"),
                sealed=True,
            ),
        ]

    def _who_fields(self, lang: Lang, values: Mapping[str, Any]) -> list[FormField]:
        def options(enum: Any, prefix: str) -> list[tuple[str, str]]:
            return [(member.value, self._t(f"{prefix}_{member.value}", lang)) for member in enum]

        return [
            FormField(
                "directorate",
                "text",
                self._t("intake_directorate_label", lang),
                max=MAX_DIRECTORATE,
                value=values.get("directorate"),
            ),
            FormField(
                "role",
                "choice",
                self._t("intake_role_label", lang),
                choices=options(Role, "role"),
                value=values.get("role"),
            ),
            FormField(
                "urgency",
                "choice",
                self._t("intake_urgency_title", lang),
                choices=options(Urgency, "urgency"),
                value=values.get("urgency"),
            ),
            FormField(
                "contact",
                "choice",
                self._t("intake_contact_label", lang),
                choices=options(ContactPreference, "contact"),
                value=values.get("contact"),
            ),
        ]

    def _keep_team(self, values: dict[str, Any], answers: Mapping[str, str]) -> None:
        if "team_size" in answers:
            values["team_size"] = int(answers["team_size"])
        for name in ("weeks", "notes"):
            if name in answers:
                values[name] = self._sealer.encrypt(answers[name])

    def _unsealed(self, values: Mapping[str, Any]) -> dict[str, Any]:
        plain = dict(values)
        for name in SEALED:
            if isinstance(values.get(name), str):
                plain[name] = self._sealer.decrypt(values[name])
        return plain

    def _request(self, step: WaterfallStepContext, values: Mapping[str, Any]) -> NewHelpRequest:
        plain = self._unsealed(values)
        kind = RequestKind(values["kind"])
        role = Role(values["role"])
        urgency = Urgency(values["urgency"])
        theme = values.get("theme") if values.get("theme") != NO_THEME else None
        result = self._desk.triage.triage(
            kind=kind, text=plain["text"], role=role, urgency=urgency, theme=theme
        )
        sender = step.context.activity.from_property
        details = {name: plain[name] for name in ("weeks", "notes") if plain.get(name)}
        return NewHelpRequest(
            kind=kind,
            requester=Person(sender.aad_object_id or sender.id, sender.name or ""),
            directorate=values["directorate"],
            role=role,
            urgency=urgency,
            contact=ContactPreference(values["contact"]),
            text=plain["text"],
            details=details,
            team_size=values.get("team_size"),
            theme=theme if theme is not None else result.theme,
            priority=result.priority,
            signals=tuple(signal.id for signal in result.signals),
            suggestions=tuple(
                Suggestion(
                    r.offer.id, tuple((reason.answer.value, reason.value) for reason in r.reasons)
                )
                for r in result.suggestions
            ),
            submission=values.get("submission"),
        )
