"""`wegwijzer serve`, as `make run` starts it: it comes up on the bot's event loop and answers."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import aiohttp

from bot.event_loop import loop_name

READY_WITHIN_S = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_serve_comes_up_on_the_bots_event_loop_and_is_ready(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; raise SystemExit(main(['serve']))",
        env=environment,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        status = None
        deadline = time.monotonic() + READY_WITHIN_S
        async with aiohttp.ClientSession() as http:
            while status != 200 and time.monotonic() < deadline:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        status = response.status
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
    finally:
        server.terminate()
        _, err = await server.communicate()

    assert status == 200
    log = err.decode()
    listening = f"listening on http://127.0.0.1:{port}/api/messages (development, on {loop_name()})"
    assert listening in log
    if sys.platform != "win32":  # uvloop is a dependency everywhere but Windows
        assert loop_name() == "uvloop"
    assert "Traceback" not in log
