"""The Bureau's buttons on a help request's card in its channel, through the action router.

Every verb is `Who.BUREAU`: the router has checked the team and the roster before a handler
runs, and the presser is the activity's aadObjectId. A handler calls the Bureau desk (which
writes, audits and queues the requester's notices in one unit of work) and answers with the
request's card as it is now: in place of the pressed card for everyone (`Replace`), with a line
for the presser alone ("you claimed it", "Fatima has it already"). The refresh and the
colleague picker are for the presser alone (`Show`). A request that is gone is a stale card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botbuilder.core import TurnContext

from bot.actions import (
    ActionRouter,
    Press,
    Replace,
    Show,
    StaleCard,
    Who,
    row_id_of,
    submission_of,
)
from bot.roster import Member
from content.render import Message, Renderer
from content.verbs import Verb
from services.bureau_desk import BureauDesk
from services.help_request_actions import HelpRequestRefused, Refusal
from services.help_request_channel import CHANNEL_CARD
from services.help_requests import HelpRequest, Person, Status

ASSIGN_CARD = "help_request_assign"


class Members(Protocol):
    async def members(self, turn_context: TurnContext) -> tuple[Member, ...]: ...


@dataclass
class BureauActions:
    """The handlers of the Bureau's help-request verbs; `register` adds them to the router."""

    renderer: Renderer
    desk: BureauDesk
    roster: Members

    def register(self, router: ActionRouter) -> None:
        router.register(Verb.HELP_REQUEST_REFRESH, self.refresh, who=Who.BUREAU)
        router.register(Verb.HELP_REQUEST_CLAIM, self.claim, who=Who.BUREAU)
        router.register(Verb.HELP_REQUEST_ASSIGN_FORM, self.assign_form, who=Who.BUREAU)
        router.register(Verb.HELP_REQUEST_ASSIGN, self.assign, who=Who.BUREAU)
        router.register(Verb.HELP_REQUEST_STATUS, self.status, who=Who.BUREAU)
        router.register(Verb.HELP_REQUEST_REPLY, self.reply, who=Who.BUREAU)
        router.register(Verb.HELP_REQUEST_NOTE, self.note, who=Who.BUREAU)

    async def refresh(self, press: Press) -> Show:
        """The card as it is now, for one viewer (Teams asks when someone looks at it)."""
        request = await self._get(press)
        return Show(await self._card(press, request))

    async def claim(self, press: Press) -> Replace:
        request_id = _request_id(press)
        try:
            outcome = await self.desk.claim(request_id, await self._actor(press))
        except HelpRequestRefused as refused:
            return await self._refused(press, refused)
        if outcome.won:
            return await self._changed(press, outcome.request, "channel_notice_claimed")
        holder = outcome.holder
        return await self._changed(
            press, outcome.request, "channel_notice_taken", name=holder.name if holder else ""
        )

    async def assign_form(self, press: Press) -> Show:
        request = await self._get(press)
        members = await self._members(press)
        card = self.renderer.card(
            ASSIGN_CARD,
            press.lang,
            request=request.id,
            members=[{"id": m.id, "name": m.name} for m in members],
        )
        return Show(card)

    async def assign(self, press: Press) -> Replace:
        request_id = _request_id(press)
        chosen = press.data.get("assignee")
        # The colleague must be on the team's roster now, whatever the card offered.
        colleague = next((m for m in await self._members(press) if m.id == chosen), None)
        if colleague is None:
            request = await self._get(press)
            return await self._changed(press, request, "channel_notice_not_a_member")
        try:
            request = await self.desk.assign(
                request_id, await self._actor(press), Person(colleague.id, colleague.name)
            )
        except HelpRequestRefused as refused:
            return await self._refused(press, refused)
        return await self._changed(press, request, "channel_notice_assigned", name=colleague.name)

    async def status(self, press: Press) -> Replace:
        request_id = _request_id(press)
        try:
            to = Status(str(press.data.get("status")))
        except ValueError:
            return await self._refused(press, HelpRequestRefused(Refusal.NOT_ALLOWED))
        try:
            request = await self.desk.change_status(request_id, await self._actor(press), to)
        except HelpRequestRefused as refused:
            return await self._refused(press, refused)
        status = self.renderer.templates.text(f"channel_status_{to.value}", press.lang)
        return await self._changed(press, request, "channel_notice_status", status=status)

    async def reply(self, press: Press) -> Replace:
        return await self._message(press, "reply", "channel_notice_replied")

    async def note(self, press: Press) -> Replace:
        return await self._message(press, "note", "channel_notice_noted")

    async def _message(self, press: Press, field: str, notice: str) -> Replace:
        request_id = _request_id(press)
        text = press.data.get(field)
        write = self.desk.reply if field == "reply" else self.desk.note
        try:
            request = await write(
                request_id,
                await self._actor(press),
                text if isinstance(text, str) else "",
                submission_of(press.data),
            )
        except HelpRequestRefused as refused:
            return await self._refused(press, refused)
        return await self._changed(press, request, notice)

    async def _refused(self, press: Press, refused: HelpRequestRefused) -> Replace:
        if refused.reason in (Refusal.NOT_FOUND, Refusal.NOT_YOURS):
            raise StaleCard from None
        request = refused.request or await self._get(press)
        return await self._changed(press, request, f"channel_notice_{refused.reason.value}")

    async def _changed(
        self, press: Press, request: HelpRequest, notice: str, **values: Any
    ) -> Replace:
        """The card as it is now for everyone (refused or not); with the notice for the presser."""
        line = self.renderer.templates.text(notice, press.lang, **values)
        return Replace(
            await self._card(press, request), for_presser=await self._card(press, request, line)
        )

    async def _card(self, press: Press, request: HelpRequest, notice: str | None = None) -> Message:
        # Teams refreshes the card by itself for these (user MRIs, at most 60).
        viewers = [m.mri for m in await self._members(press) if m.mri]
        data = self.desk.card_data(request, viewers=viewers, notice=notice)
        return self.renderer.card(CHANNEL_CARD, press.lang, **data)

    async def _get(self, press: Press) -> HelpRequest:
        try:
            return await self.desk.get(_request_id(press))
        except HelpRequestRefused:
            raise StaleCard from None

    async def _actor(self, press: Press) -> Person:
        """The presser, named as the team's roster (else Teams' activity) names them."""
        for member in await self._members(press):
            if member.id == press.actor:
                return Person(press.actor, member.name)
        sender = press.turn_context.activity.from_property
        return Person(press.actor, (sender.name if sender is not None else None) or "")

    async def _members(self, press: Press) -> tuple[Member, ...]:
        try:
            return await self.roster.members(press.turn_context)
        except Exception:  # Teams cannot say now: no picker, no refresh list; nothing breaks
            return ()


def _request_id(press: Press) -> int:
    return row_id_of(press.data, "request")
