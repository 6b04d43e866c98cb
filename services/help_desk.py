"""The help desk: what the conversation flows and card actions ask of help requests.

One object, built once in the composition root, that opens a unit of work per action and
knows the triage. Flows and card handlers call it; it never calls Teams.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from services import help_request_actions as actions
from services.help_request_channel import CardTitles, post_waiting
from services.help_requests import (
    BureauChannelUnitOfWork,
    HelpRequest,
    HelpRequestUnitOfWork,
    Message,
    NewHelpRequest,
    Person,
)
from services.triage import Triage

UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[HelpRequestUnitOfWork]]
ChannelUnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[BureauChannelUnitOfWork]]


def _now() -> datetime:
    return datetime.now(UTC)


class HelpDesk:
    """Submit, list, withdraw and answer help requests, each in its own unit of work.

    `channel` says where the Bureau wants new requests (a submitted request's card is queued
    there); `titles` are the toolkit's names the card shows themes and offers by.
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        triage: Triage,
        channel: BureauChannel | None = None,
        titles: CardTitles | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._uow_factory = uow_factory
        self.triage = triage
        self.channel = channel
        self.titles = titles or CardTitles()
        self._clock = clock

    async def submit(self, request: NewHelpRequest) -> HelpRequest:
        """Store a confirmed request, and queue its card in the Bureau's channel."""
        channel_id = await self.channel.channel_id() if self.channel is not None else None
        async with self._uow_factory() as uow:
            return await actions.submit(
                uow=uow,
                request=request,
                now=self._clock(),
                channel_id=channel_id,
                titles=self.titles,
            )

    async def post_waiting(self, channel_id: str) -> int:
        """Post the open requests that have no card yet in the channel just linked."""
        async with self._uow_factory() as uow:
            return await post_waiting(
                uow=uow, channel_id=channel_id, now=self._clock(), titles=self.titles
            )

    async def mine(self, requester_id: str) -> list[HelpRequest]:
        async with self._uow_factory() as uow:
            return await actions.my_requests(uow=uow, requester_id=requester_id)

    async def view(self, request_id: int, requester: Person) -> tuple[HelpRequest, list[Message]]:
        """The requester's own request and what they and the Bureau wrote to each other."""
        async with self._uow_factory() as uow:
            return await actions.my_request(uow=uow, request_id=request_id, requester=requester)

    async def withdraw(self, request_id: int, requester: Person) -> HelpRequest:
        async with self._uow_factory() as uow:
            return await actions.withdraw(
                uow=uow,
                request_id=request_id,
                requester=requester,
                now=self._clock(),
                titles=self.titles,
            )

    async def answer(
        self, request_id: int, requester: Person, text: str, submission: str | None = None
    ) -> HelpRequest:
        async with self._uow_factory() as uow:
            return await actions.answer(
                uow=uow,
                request_id=request_id,
                requester=requester,
                text=text,
                now=self._clock(),
                titles=self.titles,
                submission=submission,
            )


class BureauChannel:
    """Where the Bureau's team wants its help requests: a linked channel, else the setting."""

    def __init__(
        self,
        *,
        uow_factory: ChannelUnitOfWorkFactory,
        team_id: str,
        configured_channel_id: str = "",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._uow_factory = uow_factory
        self.team_id = team_id
        self._configured = configured_channel_id
        self._clock = clock

    async def link(self, *, channel_id: str, by: str) -> None:
        """Post the team's help requests in this channel from now on (a Bureau member's wish)."""
        async with self._uow_factory() as uow:
            await uow.bureau_channels.link(
                team_id=self.team_id, channel_id=channel_id, by=by, now=self._clock()
            )
            await uow.commit()

    async def channel_id(self) -> str | None:
        """The linked channel, or the one in the settings, or None when neither is set."""
        if not self.team_id:
            return self._configured or None
        async with self._uow_factory() as uow:
            linked = await uow.bureau_channels.channel_of(self.team_id)
        return linked or self._configured or None
