"""The reference: the stock echo bot of BotBuilder-Samples (02.echo-bot), unchanged in shape.

Nothing here is tuned; it shows what a bot built the documented way does on this machine.
"""

from __future__ import annotations

import logging

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

log = logging.getLogger(__name__)


class DefaultConfig:
    """The sample's config, with authentication off as in local development."""

    PORT = 3978
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):  # type: ignore[misc,unused-ignore]  # botbuilder is untyped
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


async def _on_error(context: TurnContext, error: Exception) -> None:
    log.error("echo turn failed: %s", error)
    await context.send_activity("The bot encountered an error or bug.")


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_echo_app() -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    adapter.on_turn_error = _on_error
    bot = EchoBot()

    async def messages(req: web.Request) -> web.Response:
        return await adapter.process(req, bot)  # type: ignore[no-any-return]

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", _healthz)
    return app
