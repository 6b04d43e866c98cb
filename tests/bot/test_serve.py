"""`wegwijzer serve`, as `make run` starts it: it comes up on the bot's event loop and answers."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp

from bot.event_loop import loop_name
from tests.serving import READY_WITHIN_S, serve, wait_ready


async def test_serve_comes_up_on_the_bots_event_loop_and_is_ready(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = {"DATABASE_URL": sqlite_url, "LOG_LEVEL": "INFO"}
    async with serve(tmp_path, **settings) as (url, server), aiohttp.ClientSession() as http:
        await wait_ready(http, url)
        server.terminate()
        _, err = await server.communicate()

    log = err.decode()
    listening = f"listening on {url}/api/messages (development, on {loop_name()})"
    assert listening in log
    if sys.platform != "win32":  # uvloop is a dependency everywhere but Windows
        assert loop_name() == "uvloop"
    assert "Traceback" not in log


async def test_served_links_reach_the_access_log_without_their_signature(
    sqlite_url: str, tmp_path: Path
) -> None:
    signed = "12-3-" + "A" * 43 + ".ics"
    settings = {"DATABASE_URL": sqlite_url, "LOG_LEVEL": "INFO"}
    async with serve(tmp_path, **settings) as (url, server), aiohttp.ClientSession() as http:
        await wait_ready(http, url)
        async with http.get(f"{url}/sessions/calendar/{signed}?lang=nl") as response:
            assert response.status == 404
        server.terminate()
        _, err = await server.communicate()

    log = err.decode()
    assert "GET /sessions/calendar/... 404" in log
    assert signed not in log and "lang=nl" not in log


async def test_serve_says_in_one_line_that_its_port_is_taken(
    sqlite_url: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = {"DATABASE_URL": sqlite_url, "PORT": str(port), "LOG_LEVEL": "INFO"}
        async with serve(tmp_path, **settings) as (_, server):
            _, err = await asyncio.wait_for(server.communicate(), READY_WITHIN_S)

    assert server.returncode == 1
    assert err.decode().splitlines()[-1] == (
        f"wegwijzer: cannot listen on 127.0.0.1:{port}: address already in use"
    )
    assert "Traceback" not in err.decode()
    assert "listening on" not in err.decode()  # it never did
