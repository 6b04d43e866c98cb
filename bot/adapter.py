"""The CloudAdapter, fed with the activity the route already parsed, deserialised quickly."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from botbuilder.core import Bot, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]

from bot.wire import activity_from_json


class WegwijzerAdapter(CloudAdapter):
    """`CloudAdapter.process` without parsing the body twice or msrest's slow deserialiser."""

    async def process_body(self, body: dict[str, Any], auth_header: str, bot: Bot) -> web.Response:
        try:
            activity = activity_from_json(body)
        except (DeserializationError, TypeError, ValueError):
            return web.Response(status=400, text="expected a Bot Framework activity")
        if not activity.type:
            return web.Response(status=400, text="expected a Bot Framework activity")
        try:
            invoke_response = await self.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError:
            return web.Response(status=401)
        if invoke_response:
            return web.json_response(
                data=serializer_helper(invoke_response.body), status=invoke_response.status
            )
        return web.Response(status=201)
