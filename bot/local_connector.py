"""A Bot Connector on loopback: receives the bot's replies like Teams would, for chat and tests.

It speaks the public REST shape (`/v3/conversations/...`) of the Bot Connector service and keeps
what it receives in memory. Never used in production, where replies go to Teams' service URL.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

Activity = dict[str, Any]


class LocalConnector:
    """Collects activities sent to it; `wait_for` lets a caller await the replies of a turn.

    `members` answers Teams' paged member call (`TeamsInfo.get_paged_team_members`): a team's
    (or conversation's) id to its members' accounts (`id`, `aadObjectId`, optionally `name`),
    given out in pages of the size asked for, with a continuation token, as Teams does.
    """

    def __init__(
        self,
        *,
        fail_with: Callable[[web.Request], int | None] | None = None,
        members: Mapping[str, list[Activity]] | None = None,
    ) -> None:
        self.members: dict[str, list[Activity]] = dict(members or {})
        self.member_calls = 0
        self.received: list[Activity] = []
        # Method, path and headers of each call; the headers, as in HTTP, take names in any case.
        self.requests: list[tuple[str, str, Mapping[str, str]]] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._fail_with = fail_with
        self._runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post(
            "/v3/conversations/{conversation}/activities/{reply_to}", self._activity
        )
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._activity)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, seconds: float = 5.0) -> list[Activity]:
        """Wait until at least `count` activities have arrived in all; return them all."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.received) >= count), seconds
            )
        return list(self.received)

    async def wait_for_messages(
        self,
        count: int = 1,
        *,
        after: int = 0,
        where: Callable[[str, str, Activity], bool] | None = None,
        seconds: float = 10.0,
    ) -> list[Activity]:
        """Wait for `count` messages (typing indicators left out) that match `where`.

        Only calls after the first `after` (a length of `received` taken before) count, so what
        an earlier turn sent, and activities that come in any order (a turn's typing indicator,
        an outbox message beside a reply), cannot be taken for the one awaited. `where` gets the
        call's method, path and activity. Returns the first `count` matching messages.
        """

        def matching() -> list[Activity]:
            calls = zip(self.requests[after:], self.received[after:], strict=True)
            return [
                activity
                for (method, path, _), activity in calls
                if activity.get("type") == "message"
                and (where is None or where(method, path, activity))
            ]

        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(matching()) >= count), seconds
            )
            return matching()[:count]

    def calls(self) -> list[tuple[str, str, Activity]]:
        """Method, path and activity of each call received, in order."""
        return [
            (method, path, activity)
            for (method, path, _), activity in zip(self.requests, self.received, strict=True)
        ]

    def messages(self) -> list[Activity]:
        """What a person would see: received activities without typing indicators."""
        return [a for a in self.received if a.get("type") == "message"]

    async def _record(self, request: web.Request, activity: Activity) -> None:
        async with self._changed:
            # Both in one step, so `requests` and `received` always pair up.
            self.requests.append((request.method, request.path, request.headers.copy()))
            self.received.append(activity)
            self._changed.notify_all()

    async def _activity(self, request: web.Request) -> web.Response:
        if self._fail_with is not None:
            status = self._fail_with(request)
            if status is not None:
                return web.json_response({"error": {"code": "Fault"}}, status=status)
        activity: Activity = await request.json()
        # A new activity gets the connector's id; an update keeps the one in its path.
        activity["id"] = request.match_info.get("activity") or f"activity-{next(self._ids)}"
        await self._record(request, activity)
        return web.json_response({"id": activity["id"]})

    async def _paged_members(self, request: web.Request) -> web.Response:
        self.member_calls += 1
        if self._fail_with is not None:
            status = self._fail_with(request)
            if status is not None:
                return web.json_response({"error": {"code": "Fault"}}, status=status)
        everyone = self.members.get(request.match_info["conversation"].split(";")[0])
        if everyone is None:
            return web.json_response(
                {"error": {"code": "ConversationNotFound", "message": "not found"}}, status=404
            )
        size = max(1, min(int(request.query.get("pageSize") or 200), 500))
        start = int(request.query.get("continuationToken") or 0)
        page: dict[str, Any] = {"members": everyone[start : start + size]}
        if start + size < len(everyone):
            page["continuationToken"] = str(start + size)
        return web.json_response(page)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"conversation-{next(self._ids)}"})
