"""Measure how long the event loop stalls and what CPU the server used, at /bench/stats.

The CPU time is read on the event loop's thread (the handlers run there), so it is told apart
from the process's: a turn is limited by the loop's thread, while other threads (SQLite's
writer, the connector client's) work beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

TICK_SECONDS = 0.005
STALL_REPORTED_MS = 50.0

Stats = Callable[[], dict[str, Any]]


class StallMonitor:
    """Sleeps a few milliseconds in a loop and keeps the largest lateness beyond that sleep.

    Anything that holds the loop (blocking IO, a long computation) shows up as lateness.
    """

    def __init__(self, tick: float = TICK_SECONDS) -> None:
        self._tick = tick
        self.reset()

    def reset(self) -> None:
        """Start counting again; called on the loop's thread."""
        self.max_stall_ms = 0.0
        self.stalls_over_50ms = 0
        self.ticks = 0
        self._loop_cpu_start = time.thread_time()
        self._process_cpu_start = time.process_time()

    async def run(self) -> None:
        clock = time.perf_counter
        while True:
            before = clock()
            await asyncio.sleep(self._tick)
            late_ms = (clock() - before - self._tick) * 1000
            self.ticks += 1
            self.max_stall_ms = max(self.max_stall_ms, late_ms)
            if late_ms > STALL_REPORTED_MS:
                self.stalls_over_50ms += 1

    def stats(self) -> dict[str, Any]:
        """The figures since the last reset; called on the loop's thread."""
        return {
            "max_stall_ms": round(self.max_stall_ms, 2),
            "stalls_over_50ms": self.stalls_over_50ms,
            "ticks": self.ticks,
            "loop_cpu_s": time.thread_time() - self._loop_cpu_start,
            "process_cpu_s": time.process_time() - self._process_cpu_start,
        }


MONITOR_KEY = web.AppKey("bench_monitor", StallMonitor)


def add_bench_routes(
    app: web.Application,
    *,
    extra_stats: Stats | None = None,
    on_reset: Callable[[], None] | None = None,
) -> None:
    """Run a stall monitor alongside `app` and add GET /bench/stats and POST /bench/reset."""
    monitor = StallMonitor()
    app[MONITOR_KEY] = monitor

    async def stats(_: web.Request) -> web.Response:
        extra = extra_stats() if extra_stats is not None else {}
        return web.json_response({**monitor.stats(), **extra})

    async def reset(_: web.Request) -> web.Response:
        monitor.reset()
        if on_reset is not None:
            on_reset()
        return web.json_response({"status": "reset"})

    async def monitoring(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(monitor.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.router.add_get("/bench/stats", stats)
    app.router.add_post("/bench/reset", reset)
    app.cleanup_ctx.append(monitoring)
