"""Who is in the Bureau's team: its members from Teams, every page, kept a few minutes.

`TeamRoster` is the action router's `BureauRoster`: a press or a typed command counts as the
Bureau's only when its sender's aadObjectId is a member of the team the activity came from
(the router has checked that this is the configured team), and, when `BUREAU_MEMBER_IDS` is
set, also on that list. The members come from the Bot Connector (`TeamsInfo`'s paged team
members, all pages) and are kept per team for `ttl` seconds in this instance; someone not in a
copy older than `recheck` seconds makes one fresh read, so a new colleague waits seconds, not
minutes. When Teams cannot be asked, nobody is let in (and the log says why, without names).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.actions import team_id_of

log = logging.getLogger(__name__)

PAGE_SIZE = 500  # Teams' largest page
MAX_PAGES = 100  # 50,000 members: far beyond any team, and an end to a connector that loops


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the team: the aadObjectId, the display name (for the card, never logs), and
    the Teams user id (MRI, "29:..."), which a card's `refresh.userIds` names people by."""

    id: str
    name: str
    mri: str = ""


@dataclass(frozen=True, slots=True)
class _Copy:
    members: tuple[Member, ...]
    ids: frozenset[str]
    fetched_at: float


class TeamRoster:
    """The members of a team through the connector, cached briefly; a `BureauRoster`."""

    def __init__(
        self,
        *,
        allowed_ids: Collection[str] = (),
        ttl: float = 300.0,
        recheck: float = 30.0,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed = frozenset(allowed_ids)
        self._ttl = ttl
        self._recheck = recheck
        self._page_size = page_size
        self._clock = clock
        self._copies: dict[str, _Copy] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, turn_context: TurnContext, actor: str) -> bool:
        """Whether `actor` (an aadObjectId) is one of the Bureau in the activity's team."""
        if self._allowed and actor not in self._allowed:
            return False
        team_id = team_id_of(turn_context.activity)
        if not team_id:
            return False
        try:
            copy = await self._copy(turn_context, team_id)
            if actor not in copy.ids and self._clock() - copy.fetched_at >= self._recheck:
                copy = await self._copy(turn_context, team_id, fresh=True)
        except Exception as error:  # the connector refused or failed: nobody gets in
            log.warning("team roster not read: %s", type(error).__name__)
            return False
        return actor in copy.ids

    def known_mris(self, team_id: str) -> tuple[str, ...]:
        """The Teams user ids of the team as last read here (maybe old; empty if never read)."""
        copy = self._copies.get(team_id)
        if copy is None:
            return ()
        return tuple(
            m.mri for m in copy.members if m.mri and (not self._allowed or m.id in self._allowed)
        )

    async def members(self, turn_context: TurnContext) -> tuple[Member, ...]:
        """The Bureau's members (within the allow-list, if set), for choosing a colleague."""
        team_id = team_id_of(turn_context.activity)
        if not team_id:
            return ()
        copy = await self._copy(turn_context, team_id)
        if not self._allowed:
            return copy.members
        return tuple(m for m in copy.members if m.id in self._allowed)

    async def _copy(self, turn_context: TurnContext, team_id: str, *, fresh: bool = False) -> _Copy:
        held = self._copies.get(team_id)
        if held is not None and not fresh and self._clock() - held.fetched_at < self._ttl:
            return held
        lock = self._locks.setdefault(team_id, asyncio.Lock())
        async with lock:  # one read at a time per team; the others take what it brought
            now_held = self._copies.get(team_id)
            if now_held is not None and now_held is not held:
                return now_held
            members = await self._read(turn_context, team_id)
            copy = _Copy(
                members=members, ids=frozenset(m.id for m in members), fetched_at=self._clock()
            )
            self._copies[team_id] = copy
            return copy

    async def _read(self, turn_context: TurnContext, team_id: str) -> tuple[Member, ...]:
        members: dict[str, Member] = {}
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = await TeamsInfo.get_paged_team_members(
                turn_context, team_id, continuation_token=token, page_size=self._page_size
            )
            for account in page.members or ():
                if account.aad_object_id:
                    members[account.aad_object_id] = Member(
                        id=account.aad_object_id, name=account.name or "", mri=account.id or ""
                    )
            token = page.continuation_token
            if not token:
                break
        return tuple(sorted(members.values(), key=lambda m: m.name.casefold()))
