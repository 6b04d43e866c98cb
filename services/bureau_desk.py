"""The Bureau's side of the help desk: what its card buttons ask, each in one unit of work.

Who may act as the Bureau is decided in `bot/` (the action router's `Who.BUREAU`) before any of
these is called; `actor` is the presser, from the activity. The actions themselves, with their
audit rows and the requester's notices, are in `services.help_request_actions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from services import help_request_actions as actions
from services.help_request_actions import ClaimOutcome, HelpRequestRefused, Refusal
from services.help_request_channel import (
    CardTitles,
    channel_card_data,
    channel_post_key,
    has_channel_post,
)
from services.help_requests import HelpRequest, HelpRequestUnitOfWork, Person, Status
from services.outbox import MessageKind, Recipient, queue_message

UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[HelpRequestUnitOfWork]]
# In the thread of the request's card: what the Bureau wrote, for colleagues to read back.
THREAD_REPLY = "help_request_thread_reply"
THREAD_NOTE = "help_request_thread_note"


def _now() -> datetime:
    return datetime.now(UTC)


class BureauDesk:
    """Read, claim, assign, set the status of, reply to and note on help requests."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        titles: CardTitles,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._uow_factory = uow_factory
        self.titles = titles
        self._clock = clock

    def card_data(
        self, request: HelpRequest, *, viewers: Sequence[str] = (), notice: str | None = None
    ) -> dict[str, Any]:
        """The channel card's values for the request as it is now."""
        return channel_card_data(
            request, now=self._clock(), titles=self.titles, viewers=viewers, notice=notice
        )

    async def get(self, request_id: int) -> HelpRequest:
        async with self._uow_factory() as uow:
            request = await uow.help_requests.get(request_id)
        if request is None:
            raise HelpRequestRefused(Refusal.NOT_FOUND)
        return request

    async def claim(self, request_id: int, by: Person) -> ClaimOutcome:
        async with self._uow_factory() as uow:
            return await actions.claim(uow=uow, request_id=request_id, by=by, now=self._clock())

    async def assign(self, request_id: int, actor: Person, to: Person) -> HelpRequest:
        async with self._uow_factory() as uow:
            return await actions.assign(
                uow=uow, request_id=request_id, actor=actor, to=to, now=self._clock()
            )

    async def change_status(self, request_id: int, actor: Person, to: Status) -> HelpRequest:
        async with self._uow_factory() as uow:
            return await actions.change_status(
                uow=uow, request_id=request_id, actor=actor, to=to, now=self._clock()
            )

    async def reply(
        self, request_id: int, actor: Person, text: str, submission: str | None = None
    ) -> HelpRequest:
        """Relay a reply to the requester; the card's thread shows it to the Bureau too."""
        return await self._message(actions.reply, THREAD_REPLY, request_id, actor, text, submission)

    async def note(
        self, request_id: int, actor: Person, text: str, submission: str | None = None
    ) -> HelpRequest:
        """Keep an internal note; it appears in the card's thread, never to the requester."""
        return await self._message(actions.note, THREAD_NOTE, request_id, actor, text, submission)

    async def _message(
        self,
        store: Callable[..., Awaitable[HelpRequest]],
        thread: str,
        request_id: int,
        actor: Person,
        text: str,
        submission: str | None,
    ) -> HelpRequest:
        now = self._clock()
        async with self._uow_factory() as uow:
            # Queued first: the message's own commit keeps both, a refusal or a repeat neither.
            await _in_thread(uow, request_id, thread, actor, text, now)
            return await store(
                uow=uow,
                request_id=request_id,
                actor=actor,
                text=text,
                now=now,
                submission=submission,
            )


async def _in_thread(
    uow: HelpRequestUnitOfWork,
    request_id: int,
    template: str,
    author: Person,
    text: str,
    now: datetime,
) -> None:
    """Queue a reply or note in the thread of the request's card (sealed), if it has one."""
    if not text.strip() or not await has_channel_post(uow, request_id):
        return
    await queue_message(
        uow=uow,
        to=Recipient.reply_to(channel_post_key(request_id)),
        kind=MessageKind.BUREAU,
        template=template,
        data={"request": request_id, "name": author.name, "text": text.strip()},
        key=f"{channel_post_key(request_id)}:{template}:{author.id}:{now.isoformat()}",
        private=("name", "text"),
    )
