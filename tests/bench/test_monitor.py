"""The benchmark's server monitor tells the loop thread's CPU time from the process's."""

from __future__ import annotations

import asyncio
import time

from bench.monitor import StallMonitor


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def test_cpu_on_other_threads_counts_for_the_process_only() -> None:
    monitor = StallMonitor()
    monitor.reset()
    _burn(0.05)  # on the loop's thread
    await asyncio.to_thread(_burn, 0.2)  # beside it
    stats = monitor.stats()
    assert 0.05 <= stats["loop_cpu_s"] < 0.2
    assert stats["process_cpu_s"] >= 0.25


async def test_a_reset_starts_counting_again() -> None:
    monitor = StallMonitor()
    monitor.reset()
    _burn(0.05)
    monitor.reset()
    assert monitor.stats()["loop_cpu_s"] < 0.05
