"""A fake Bot Connector on loopback for proactive messages, with scripted failures.

It speaks the Bot Connector's REST shape (create a conversation, send, reply, update), keeps
every activity it accepted with the time it arrived, and can be told to answer the next calls
with a 429 and Retry-After, a 5xx, a 403 or 404, or to drop the connection. Used by the
dispatcher's tests and the outbox benchmark; never in production.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

DROP = "drop"  # close the connection without an answer


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() on arrival
    method: str
    conversation_id: str
    activity_id: str | None  # for an update (PUT), the activity it edits
    activity: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")


@dataclass
class Call:
    conversation_id: str
    started: float  # time.monotonic() when the call came in
    ended: float | None = None  # when it was answered, or found its caller gone


Answer = int | tuple[int, float] | str  # a status, (429, Retry-After seconds), or DROP


class ScriptedConnector:
    """Accepts activities, except where a script says to fail first."""

    def __init__(self, *, delay: float = 0.0) -> None:
        # How long an activity takes to arrive: `delay`, or what `latency()` says for each call
        # (a busy network: sends started evenly arrive bunched). It counts as arrived after it.
        self.received: list[Received] = []
        self.attempts: list[tuple[float, str, str]] = []  # (time, conversation, what happened)
        self.created: list[str] = []  # members a conversation was created for
        self.any_call: deque[Answer] = deque()  # answers for the next calls, whatever they are
        self.by_conversation: defaultdict[str, deque[Answer]] = defaultdict(deque)
        self.unknown_members: set[str] = set()  # never installed the app: create answers 403
        self.delay = delay
        self.latency: Callable[[], float] | None = None
        self.arrived = 0  # activity calls that reached the connector, answered or not
        self.calls: list[Call] = []  # every activity call: when it came and when it ended
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{id}", self._activity)
        app.router.add_put("/v3/conversations/{conversation}/activities/{id}", self._activity)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def to(self, conversation_id: str) -> list[Received]:
        return [r for r in self.received if r.conversation_id == conversation_id]

    async def _scripted(self, request: web.Request, conversation: str) -> web.Response | None:
        queue = self.any_call if self.any_call else self.by_conversation.get(conversation)
        if not queue:
            return None
        answer = queue.popleft()
        now = time.monotonic()
        if answer == DROP:
            self.attempts.append((now, conversation, DROP))
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("dropped on purpose")
        if isinstance(answer, tuple):
            status, seconds = answer
            self.attempts.append((now, conversation, str(status)))
            return web.json_response(
                {"error": {"code": "Throttled"}},
                status=status,
                headers={"Retry-After": f"{seconds:g}"},
            )
        assert isinstance(answer, int)
        self.attempts.append((now, conversation, str(answer)))
        return web.json_response({"error": {"code": "Fault"}}, status=answer)

    async def _activity(self, request: web.Request) -> web.StreamResponse:
        conversation = request.match_info["conversation"]
        self.arrived += 1
        call = Call(conversation, started=time.monotonic())
        self.calls.append(call)
        try:
            return await self._answer(request, conversation)
        finally:
            call.ended = time.monotonic()

    async def _answer(self, request: web.Request, conversation: str) -> web.StreamResponse:
        failure = await self._scripted(request, conversation)
        if failure is not None:
            return failure
        activity = await request.json()
        delay = self.latency() if self.latency is not None else self.delay
        if delay:
            deadline = time.monotonic() + delay
            # Polled: aiohttp gives a handler no event for its client going away.
            while time.monotonic() < deadline and not _gone(request):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            if _gone(request):
                return web.Response(status=499)  # the sender is gone: it never got an answer
        now = time.monotonic()
        self.attempts.append((now, conversation, "ok"))
        edited = request.match_info.get("id") if request.method == "PUT" else None
        self.received.append(Received(now, request.method, conversation, edited, activity))
        return web.json_response({"id": edited or f"activity-{next(self._ids)}"})

    async def _create(self, request: web.Request) -> web.Response:
        parameters = await request.json()
        members = [str(m.get("id")) for m in parameters.get("members") or []]
        if any(member in self.unknown_members for member in members):
            return web.json_response({"error": {"code": "Forbidden"}}, status=403)
        self.created.extend(members)
        return web.json_response({"id": "a:new-" + "-".join(members)})


def _gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()
