"""The periodic jobs runner: jobs run on their interval, a failing or hung run never stops the
loop, the log never holds an exception's message, and stopping is clean (also with the app)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import APP_KEY, create_app
from bot.periodic import JOB_RUNS, PeriodicJobs
from bot.settings import Settings
from storage.migrate import upgrade

WITHIN = 10.0  # seconds a test waits for something that takes milliseconds


class Calls:
    """Counts runs; `reached(n)` waits for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Condition()

    async def tick(self) -> None:
        async with self._changed:
            self.count += 1
            self._changed.notify_all()

    async def reached(self, n: int) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.count >= n)

        await asyncio.wait_for(wait(), WITHIN)


def runs(job: str, outcome: str) -> float:
    return JOB_RUNS.labels(job, outcome)._value.get()


async def test_a_job_runs_again_at_each_interval_until_stopped() -> None:
    jobs = PeriodicJobs()
    calls = Calls()
    jobs.add("tick", every=0.01, run=calls.tick, first_after=0)
    jobs.start()
    try:
        await calls.reached(3)
    finally:
        await jobs.stop()
    stopped_at = calls.count
    await asyncio.sleep(0.05)
    assert calls.count == stopped_at, "no run after stop"


async def test_a_failing_job_is_logged_without_its_message_and_runs_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = PeriodicJobs()
    calls, other = Calls(), Calls()

    async def fails() -> None:
        await calls.tick()
        raise ValueError("Jan Jansen: mijn geheime vraag")

    jobs.add("fails", every=0.01, run=fails, first_after=0)
    jobs.add("other", every=0.01, run=other.tick, first_after=0)
    before = runs("fails", "failed")
    with caplog.at_level(logging.ERROR, logger="bot.periodic"):
        jobs.start()
        try:
            await calls.reached(3)  # failed twice, and ran again
            await other.reached(3)  # the other job never noticed
        finally:
            await jobs.stop()
    assert runs("fails", "failed") - before >= 2
    failures = [r for r in caplog.records if r.name == "bot.periodic"]
    assert failures and all(r.exc_info is None for r in failures)
    logged = "\n".join(r.getMessage() for r in failures)
    assert "periodic job fails failed: builtins.ValueError at test_periodic.py" in logged
    assert "Jan" not in logged and "geheime" not in logged


async def test_a_run_that_hangs_is_cancelled_at_its_timeout_and_the_job_runs_again() -> None:
    jobs = PeriodicJobs()
    calls = Calls()

    async def hangs() -> None:
        await calls.tick()
        if calls.count == 1:
            await asyncio.sleep(3600)

    jobs.add("hangs", every=0.01, run=hangs, timeout=0.05, first_after=0)
    before = runs("hangs", "timeout")
    jobs.start()
    try:
        await calls.reached(2)
    finally:
        await jobs.stop()
    assert runs("hangs", "timeout") - before == 1


async def test_a_timeout_the_job_raises_itself_is_a_failure_not_an_overrun() -> None:
    async def raises_timeout() -> None:
        raise TimeoutError

    jobs = PeriodicJobs()
    jobs.add("own-timeout", every=60, run=raises_timeout, timeout=30)
    before = runs("own-timeout", "failed"), runs("own-timeout", "timeout")
    assert await jobs.run_once() == {"own-timeout": False}
    assert (runs("own-timeout", "failed"), runs("own-timeout", "timeout")) == (
        before[0] + 1,
        before[1],
    )


async def test_stop_wakes_a_job_waiting_for_its_interval_at_once() -> None:
    jobs = PeriodicJobs()
    calls = Calls()
    jobs.add("hourly", every=3600, run=calls.tick, first_after=0)
    jobs.start()
    await calls.reached(1)
    await asyncio.wait_for(jobs.stop(), 1.0)
    assert calls.count == 1


async def test_stop_lets_a_run_in_progress_finish_and_cancels_one_that_overstays() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()

    jobs = PeriodicJobs()
    jobs.add("slow", every=3600, run=slow, first_after=0)
    jobs.start()
    await asyncio.wait_for(started.wait(), WITHIN)
    await jobs.stop(grace=WITHIN)
    assert finished.is_set(), "the run in progress finished"

    stuck = PeriodicJobs()
    entered = asyncio.Event()

    async def endless() -> None:
        entered.set()
        await asyncio.sleep(3600)

    stuck.add("endless", every=3600, run=endless, first_after=0)
    stuck.start()
    await asyncio.wait_for(entered.wait(), WITHIN)
    await asyncio.wait_for(stuck.stop(grace=0.05), 1.0)


async def test_run_once_runs_every_job_now_and_says_which_failed() -> None:
    calls = Calls()

    async def fails() -> None:
        raise RuntimeError("no")

    jobs = PeriodicJobs()
    jobs.add("ok-job", every=3600, run=calls.tick)
    jobs.add("bad-job", every=3600, run=fails)
    assert await jobs.run_once() == {"ok-job": True, "bad-job": False}
    assert calls.count == 1


def test_a_job_needs_a_fixed_short_name_of_its_own_and_an_interval() -> None:
    async def nothing() -> None:
        return None

    jobs = PeriodicJobs()
    jobs.add("sla-reminders", every=60, run=nothing)
    with pytest.raises(ValueError, match="registered already"):
        jobs.add("sla-reminders", every=60, run=nothing)
    for name in ("", "Has Spaces", "x" * 41, "user:29:abc"):
        with pytest.raises(ValueError, match="name"):
            jobs.add(name, every=60, run=nothing)
    with pytest.raises(ValueError, match="interval"):
        jobs.add("never", every=0, run=nothing)
    job = jobs.jobs[0]
    assert job.timeout == 60 and 0 <= job.first_after <= 60


async def test_the_app_starts_its_jobs_and_stops_them_on_cleanup(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(_env_file=None, DATABASE_URL=database_url, OUTBOX_ENABLED=False)  # type: ignore[call-arg]
    app = create_app(settings)
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.05)
        finished.set()

    app[APP_KEY].jobs.add("probe", every=3600, run=slow, first_after=0)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # on_startup: the jobs start
    try:
        await asyncio.wait_for(started.wait(), WITHIN)
    finally:
        await runner.cleanup()  # what SIGTERM ends in: the run in progress finishes first
    assert finished.is_set()


async def test_jobs_stay_off_when_disabled(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, DATABASE_URL=database_url, OUTBOX_ENABLED=False, JOBS_ENABLED=False
    )
    app = create_app(settings)
    calls = Calls()
    app[APP_KEY].jobs.add("probe", every=0.01, run=calls.tick, first_after=0)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    assert calls.count == 0
