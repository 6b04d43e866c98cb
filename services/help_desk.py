"""The help desk: what the conversation flows and card actions ask of help requests.

One object, built once in the composition root, that opens a unit of work per action and
knows the triage. Flows and card handlers call it; it never calls Teams.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from services import help_request_actions as actions
from services.help_requests import HelpRequest, HelpRequestUnitOfWork, NewHelpRequest, Person
from services.triage import Triage

UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[HelpRequestUnitOfWork]]


def _now() -> datetime:
    return datetime.now(UTC)


class HelpDesk:
    """Submit, list, withdraw and answer help requests, each in its own unit of work."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        triage: Triage,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._uow_factory = uow_factory
        self.triage = triage
        self._clock = clock

    async def submit(self, request: NewHelpRequest) -> HelpRequest:
        """Store a confirmed request."""
        async with self._uow_factory() as uow:
            return await actions.submit(uow=uow, request=request, now=self._clock())

    async def mine(self, requester_id: str) -> list[HelpRequest]:
        async with self._uow_factory() as uow:
            return await actions.my_requests(uow=uow, requester_id=requester_id)

    async def withdraw(self, request_id: int, requester: Person) -> HelpRequest:
        async with self._uow_factory() as uow:
            return await actions.withdraw(
                uow=uow, request_id=request_id, requester=requester, now=self._clock()
            )

    async def answer(self, request_id: int, requester: Person, text: str) -> HelpRequest:
        async with self._uow_factory() as uow:
            return await actions.answer(
                uow=uow, request_id=request_id, requester=requester, text=text, now=self._clock()
            )
