"""A fast fake Bot Connector: answers every reply with an id and counts what it got, by type."""

from __future__ import annotations

import itertools
import json
from collections import Counter, deque
from typing import Any

from aiohttp import web

# The sanity check reads back the last replies; a few turns' worth is plenty.
KEPT_ACTIVITIES = 50


class FakeConnector:
    """Counts the activities posted or put under /v3/conversations, and keeps the last few."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.by_type: Counter[str] = Counter()
        self.requests = 0
        self.last: deque[dict[str, Any]] = deque(maxlen=KEPT_ACTIVITIES)

    def reset(self) -> None:
        self.by_type.clear()
        self.requests = 0
        self.last.clear()

    def stats(self) -> dict[str, Any]:
        return {"requests": self.requests, "by_type": dict(self.by_type)}

    async def activity(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            activity = json.loads(await request.read())
        except ValueError:
            activity = None
        if isinstance(activity, dict):
            self.by_type[str(activity.get("type"))] += 1
            self.last.append(activity)
        else:
            self.by_type["unreadable"] += 1
        return web.json_response({"id": str(next(self._ids))})

    async def last_activities(self, _: web.Request) -> web.Response:
        return web.json_response(list(self.last))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("POST", "/v3/conversations{rest:.*}", self.activity)
        app.router.add_route("PUT", "/v3/conversations{rest:.*}", self.activity)
        app.router.add_get("/bench/last", self.last_activities)
        return app
