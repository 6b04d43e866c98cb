"""A bot serving the dev chat on loopback, and headless Chromium to look at it.

The browser tests (marked `e2e`) drive Debian's chromium at /usr/bin/chromium with Playwright;
without it they are skipped with the reason, or fail when `CI` is set. Screenshots go to
test-artifacts/devchat/.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.app import create_app
from bot.devchat import DEV_CHAT_KEY, DevConnector
from bot.settings import Settings
from storage.migrate import upgrade

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "devchat"
# How long a browser assertion waits for the page: generous, as CI machines can be busy.
EXPECT_TIMEOUT_MS = 15_000


@dataclass
class DevChat:
    url: str
    app: web.Application
    http: aiohttp.ClientSession

    @property
    def connector(self) -> DevConnector:
        return self.app[DEV_CHAT_KEY]


async def serve(
    tmp_path: Path, database_url: str | None = None, **settings: Any
) -> AsyncIterator[DevChat]:
    database_url = database_url or f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await asyncio.to_thread(upgrade, database_url)
    config = Settings(_env_file=None, DATABASE_URL=database_url, **settings)  # type: ignore[call-arg]
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield DevChat(f"http://127.0.0.1:{runner.addresses[0][1]}", app, http)
    finally:
        await runner.cleanup()


@dataclass
class Browser:
    """One page in headless Chromium, watching for errors and for requests leaving loopback."""

    page: Any
    base_url: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"no Chromium at {CHROMIUM} (`make browser` installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this fails instead of skipping", pytrace=False)
    pytest.skip(reason)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Any]:
    """One headless Chromium for the whole run: starting it costs seconds, a page does not."""
    _chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


# The browser tests run on the session's event loop, Chromium's; so does the bot they look at.
@pytest_asyncio.fixture(loop_scope="session")
async def e2e_chat(tmp_path: Path) -> AsyncIterator[DevChat]:
    async for running in serve(tmp_path, ALLOWED_TENANT_IDS=["city-tenant"]):
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium: Any, e2e_chat: DevChat) -> AsyncIterator[Browser]:
    # The page's own policy allows only this server; Playwright's waiting needs eval, so the
    # test context sets it aside and watches every request itself instead.
    context = await chromium.new_context(
        viewport={"width": 1200, "height": 900}, locale="nl-NL", bypass_csp=True
    )
    try:
        page = await context.new_page()
        watched = Browser(page, e2e_chat.url)

        async def only_loopback(route: Any) -> None:
            if route.request.url.startswith(e2e_chat.url):
                await route.continue_()
            else:  # nothing may come from the internet
                watched.outside.append(route.request.url)
                await route.abort()

        await page.route("**/*", only_loopback)
        page.on("pageerror", lambda error: watched.errors.append(f"page: {error}"))
        page.on(
            "console",
            lambda message: (
                watched.errors.append(f"console: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        yield watched
    finally:
        await context.close()
