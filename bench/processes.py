"""Start benchmark servers as their own processes, wait until they answer, and always stop them."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from bench.serve import HOST

READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.01
STOP_TIMEOUT_SECONDS = 5.0
LOG_TAIL_CHARS = 2_000
PROJECT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1


class BenchError(RuntimeError):
    """Something the benchmark cannot go on without; the message says what."""


def die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the benchmark dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One running `python -m bench.serve` process."""

    kind: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    startup_s: float = 0.0

    def peak_rss_mb(self) -> float:
        """The process's peak resident set size (VmHWM) so far, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise BenchError(f"no VmHWM in /proc/{self.process.pid}/status")

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Processes:
    """Every server this run started; leaving the `with` block stops those still running."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._running: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in list(self._running):
            self.stop(process)

    def spawn(self, kind: str, *args: str) -> Server:
        port = free_port()
        log_path = self.log_dir / f"{kind}-{port}.log"
        command = [sys.executable, "-m", "bench.serve", kind, "--port", str(port), *args]
        with log_path.open("wb") as log:
            # Its own session: Ctrl-C in the terminal reaches only us, and we stop it in order.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self._running.append(process)
        return Server(kind=kind, process=process, url=f"http://{HOST}:{port}", log_path=log_path)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(ValueError):
            self._running.remove(process)


async def start(
    processes: Processes,
    http: aiohttp.ClientSession,
    kind: str,
    *args: str,
    ready_path: str = "/healthz",
) -> Server:
    """Spawn a server and wait until `ready_path` answers 200; record how long that took."""
    began = time.perf_counter()
    server = processes.spawn(kind, *args)
    deadline = began + READY_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"{kind} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        if await _answers(http, server.url + ready_path):
            server.startup_s = time.perf_counter() - began
            return server
        await asyncio.sleep(POLL_SECONDS)
    processes.stop(server.process)
    raise BenchError(f"{kind} was not ready within {READY_TIMEOUT_SECONDS:.0f} s")


async def _answers(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def post_json(http: aiohttp.ClientSession, url: str, body: Any = None) -> Any:
    async with http.post(url, json=body) as response:
        response.raise_for_status()
        return await response.json()
