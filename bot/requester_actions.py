"""A requester's buttons for their own help requests: see them, withdraw one, answer the Bureau.

Every button goes through the action router (anyone, in their own personal chat). Who pressed
is the activity's aadObjectId, never the card's data; the request is whatever number the card
carries, and the help desk refuses it unless it is the presser's own. These handlers read the
card's inputs, call the help desk, and render the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.actions import ActionRouter, Press, Reply, StaleCard, Who, row_id_of, submission_of
from content.render import Message, Renderer
from content.schema import Lang
from content.verbs import Verb
from services.help_desk import HelpDesk
from services.help_request_actions import HelpRequestRefused, Refusal
from services.help_requests import (
    MAX_MESSAGE_TEXT,
    HelpRequest,
    MessageKind,
    Person,
    new_submission,
)
from services.help_requests import Message as RequestMessage
from services.session_types import AMSTERDAM

# The newest requests the list shows: a card stays well within what Teams can show.
MAX_LISTED = 10
# The typed commands (content/commands.yaml) that press these verbs, in any flow.
TYPED = {"my_help_requests": Verb.MY_HELP_REQUESTS}
REFUSED = {
    Refusal.NOT_FOUND: "mine_refused_not_found",
    Refusal.NOT_YOURS: "mine_refused_not_found",  # someone else's: as if it did not exist
    Refusal.NOT_OPEN: "mine_refused_not_open",
}
ThemeTitles = Mapping[str, Mapping[Lang, str]]


@dataclass
class RequesterActions:
    """The handlers of the requester's help-request verbs; `register` adds them to the router."""

    renderer: Renderer
    help_desk: HelpDesk
    theme_titles: ThemeTitles  # theme id -> title per language, from the toolkit

    def register(self, router: ActionRouter) -> None:
        router.register(Verb.MY_HELP_REQUESTS, self.mine, who=Who.PERSONAL)
        router.register(Verb.HELP_REQUEST_VIEW, self.view, who=Who.PERSONAL)
        router.register(Verb.HELP_REQUEST_WITHDRAW, self.withdraw, who=Who.PERSONAL)
        router.register(Verb.HELP_REQUEST_ANSWER_FORM, self.answer_form, who=Who.PERSONAL)
        router.register(Verb.HELP_REQUEST_ANSWER, self.answer, who=Who.PERSONAL)
        for command, verb in TYPED.items():
            router.register_command(command, verb)

    async def mine(
        self, press: Press, notice: str | None = None, number: int | None = None
    ) -> Reply:
        requests = await self.help_desk.mine(press.actor)  # newest first
        return Reply(
            self.renderer.card(
                "my_help_requests",
                press.lang,
                requests=[self._view(r, press.lang) for r in requests[:MAX_LISTED]],
                more=len(requests) > MAX_LISTED,
                listed=MAX_LISTED,
                notice=notice,
                notice_number=number,
            )
        )

    async def view(self, press: Press) -> Reply:
        """One request: what they asked and what they and the Bureau wrote, in their own chat."""
        try:
            request, messages = await self.help_desk.view(request_of(press.data), _requester(press))
        except HelpRequestRefused as refused:
            return await self._refused(press, refused)
        return Reply(
            self.renderer.card(
                "my_help_request",
                press.lang,
                r=self._view(request, press.lang),
                text=request.text,
                details=dict(request.details),
                team_size=request.team_size,
                messages=[message_view(m) for m in messages],
            )
        )

    async def withdraw(self, press: Press) -> Reply:
        request_id = request_of(press.data)
        try:
            await self.help_desk.withdraw(request_id, _requester(press))
        except HelpRequestRefused as refused:
            return await self._refused(press, refused)
        return await self.mine(press, "mine_withdrawn", request_id)

    async def answer_form(self, press: Press) -> Reply:
        request_id = request_of(press.data)
        mine = [r for r in await self.help_desk.mine(press.actor) if r.id == request_id]
        if not mine:
            return await self.mine(press, "mine_refused_not_found")
        if not mine[0].status.is_open:
            return await self.mine(press, "mine_refused_not_open")
        return Reply(self._form(press.lang, request_id))

    async def answer(self, press: Press) -> Reply:
        request_id = request_of(press.data)
        text = press.data.get("text")
        text = text if isinstance(text, str) else ""
        try:
            await self.help_desk.answer(
                request_id, _requester(press), text, submission_of(press.data)
            )
        except HelpRequestRefused as refused:
            if refused.reason in (Refusal.EMPTY, Refusal.TOO_LONG):
                # Give back what they typed (cut to the limit): nothing is lost, nothing was sent.
                form = self._form(
                    press.lang, request_id, "mine_refused_text", text[:MAX_MESSAGE_TEXT]
                )
                return Reply(form)
            return await self._refused(press, refused)
        return Reply(self.renderer.text("mine_answered", press.lang))

    async def _refused(self, press: Press, refused: HelpRequestRefused) -> Reply:
        key = REFUSED.get(refused.reason)
        if key is None:
            raise StaleCard from refused  # changed meanwhile: the card says so
        return await self.mine(press, key)

    def _form(
        self, lang: Lang, request_id: int, problem: str | None = None, value: str = ""
    ) -> Message:
        return self.renderer.card(
            "help_request_answer",
            lang,
            request=request_id,
            max=MAX_MESSAGE_TEXT,
            problem=problem,
            value=value,
            submission=new_submission(),
        )

    def _view(self, request: HelpRequest, lang: Lang) -> dict[str, Any]:
        return request_view(request, lang, self.theme_titles)


def request_view(request: HelpRequest, lang: Lang, theme_titles: ThemeTitles) -> dict[str, Any]:
    """What the requester's card shows of a request: never its text, only its handling."""
    asked = request.created_at.astimezone(AMSTERDAM)
    theme = theme_titles.get(request.theme or "", {}).get(lang)
    return {
        "id": request.id,
        "kind": request.kind.value,
        "theme": theme,
        "date": {"day": asked.day, "month": asked.month, "year": asked.year},
        "status": request.status.value,
        "open": request.status.is_open,
    }


def message_view(message: RequestMessage) -> dict[str, Any]:
    """A reply or an answer as the requester sees it: who (the Bureau, or they), when, what."""
    written = message.created_at.astimezone(AMSTERDAM)
    return {
        "from": "you" if message.kind is MessageKind.ANSWER else "bureau",
        "date": {"day": written.day, "month": written.month, "year": written.year},
        "text": message.body,
    }


def request_of(data: Mapping[str, Any]) -> int:
    """The request a card is about; a card without a sensible number is stale (or forged)."""
    return row_id_of(data, "request")


def _requester(press: Press) -> Person:
    # Only the id decides whose request it is; the name is not needed for these actions.
    return Person(press.actor, "")
