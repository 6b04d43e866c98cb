"""A running bot on loopback, with a local Bot Connector receiving its replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from bot.settings import Settings
from storage.migrate import upgrade

TENANT = "city-tenant"


@dataclass
class RunningBot:
    url: str
    database_url: str
    connector: LocalConnector
    http: aiohttp.ClientSession
    app: web.Application

    def user(self, **fields: Any) -> TeamsUser:
        return TeamsUser(self.url + "/api/messages", self.connector.url, TENANT, **fields)

    async def send(self, activity: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        """Post one activity; return the status and the messages the connector got for it."""
        before = len(self.connector.messages())
        async with self.http.post(self.url + "/api/messages", json=activity) as response:
            status = response.status
        return status, self.connector.messages()[before:]


async def start_bot(
    tmp_path: Path,
    connector: LocalConnector,
    database_url: str | None = None,
    *,
    migrate: bool = True,
    **settings: Any,
) -> AsyncIterator[RunningBot]:
    """A bot on loopback with `connector`; `migrate=False` for a database it must not touch."""
    database_url = database_url or f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    if migrate:
        await asyncio.to_thread(upgrade, database_url)
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=database_url,
        **{"ALLOWED_TENANT_IDS": [TENANT], **settings},
    )
    await connector.start()
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningBot(url, database_url, connector, http, app)
    finally:
        await runner.cleanup()
        await connector.stop()


@pytest.fixture
async def running_bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async for running in start_bot(tmp_path, LocalConnector()):
        yield running
