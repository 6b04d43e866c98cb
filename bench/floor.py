"""The floor: the least an aiohttp bot can do per turn, to see what the machine allows.

It reads the activity, builds the reply by hand and posts it with one pooled client session.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

SESSION_KEY = web.AppKey("floor_session", aiohttp.ClientSession)


def reply_to(activity: dict[str, Any]) -> dict[str, Any]:
    """The echo reply to `activity`, as the Bot Connector expects it."""
    return {
        "type": "message",
        "text": f"Echo: {activity.get('text')}",
        "from": activity.get("recipient"),
        "recipient": activity.get("from"),
        "conversation": activity.get("conversation"),
        "replyToId": activity.get("id"),
        "channelId": activity.get("channelId"),
        "serviceUrl": activity.get("serviceUrl"),
    }


async def _messages(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    conversation = quote(activity["conversation"]["id"], safe="")
    url = (
        f"{activity['serviceUrl']}v3/conversations/{conversation}"
        f"/activities/{quote(activity['id'], safe='')}"
    )
    async with request.app[SESSION_KEY].post(url, json=reply_to(activity)) as response:
        await response.read()
    return web.Response(status=200)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[SESSION_KEY] = session
        yield


def create_floor_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_client_session)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    return app
