"""`wegwijzer serve` as a real process on a loopback port, for tests that need one."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

# Start-up loads the content and builds the search index: seconds on a busy machine.
READY_WITHIN_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_ready(http: aiohttp.ClientSession, url: str) -> None:
    """Wait until /readyz answers 200 (the database is reachable too)."""
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        try:
            async with http.get(url + "/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"wegwijzer serve at {url} did not get ready")


@asynccontextmanager
async def serve(
    cwd: Path, **settings: str
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """Start `wegwijzer serve` with these settings; yield its URL and process; kill it after."""
    port = free_port()
    environment = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **settings}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; raise SystemExit(main(['serve']))",
        env=environment,
        cwd=cwd,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
