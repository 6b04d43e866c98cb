"""`wegwijzer serve`, as `make run` starts it: it comes up on the bot's event loop and answers."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp
from alembic.script import ScriptDirectory

from bot.event_loop import loop_name
from storage.migrate import alembic_config, behind, upgrade
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


def _one_before_head() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    down = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(down, str)
    return down


async def test_serve_refuses_a_database_that_lacks_this_versions_migrations(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/behind.db"
    await asyncio.to_thread(upgrade, url, _one_before_head())
    async with serve(tmp_path, DATABASE_URL=url) as (_, server):
        _, err = await asyncio.wait_for(server.communicate(), READY_WITHIN_S)

    assert server.returncode == 1
    refusal = err.decode().splitlines()[-1]
    assert refusal.startswith("wegwijzer: the database is not migrated to this version")
    assert f"(it is at {_one_before_head()}, this version needs " in refusal
    assert refusal.endswith("run 'wegwijzer db upgrade' first")


async def test_serve_refuses_a_database_never_migrated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    async with serve(tmp_path, DATABASE_URL=url) as (_, server):
        _, err = await asyncio.wait_for(server.communicate(), READY_WITHIN_S)

    assert server.returncode == 1
    assert "(it was never migrated, this version needs" in err.decode()


async def test_serve_runs_on_a_database_a_newer_release_migrated(
    sqlite_url: str, tmp_path: Path
) -> None:
    database = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_newer'")
    async with serve(tmp_path, DATABASE_URL=sqlite_url) as (url, server):
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, url)
        server.terminate()
        await server.communicate()


def test_a_database_that_cannot_be_reached_is_left_to_readiness() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert behind(f"postgresql+asyncpg://wegwijzer@127.0.0.1:{port}/wegwijzer") is None


async def test_serve_says_in_one_line_that_its_host_is_unknown(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = {
        "DATABASE_URL": sqlite_url,
        "HOST": "wegwijzer.invalid",  # .invalid never resolves (RFC 2606)
        "APP_ID": "00000000-0000-0000-0000-000000000001",
    }
    async with serve(tmp_path, **settings) as (_, server):
        _, err = await asyncio.wait_for(server.communicate(), READY_WITHIN_S)

    assert server.returncode == 1
    assert (
        err.decode().splitlines()[-1].startswith("wegwijzer: cannot listen on wegwijzer.invalid:")
    )
    assert "Traceback" not in err.decode()
