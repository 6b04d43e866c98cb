"""Periodic jobs: small async tasks every instance runs on an interval, beside the dispatcher.

A part with work that must happen on time, not in anyone's turn (reminders when a deadline
passed, offers that expired), registers a job in bot/jobs.py:

    jobs.add("offer-expiry", every=60, run=expire_offers_now)

`run` is an async function without arguments. It must be idempotent and guarded by the
database (conditional updates, unique keys): every instance runs every job, at any moment, so
two runs at once must be harmless. A run that raises or takes longer than its `timeout` is
logged (the exception's class and place, never its message) and counted; the job runs again at
its next interval. Nothing a job does stops the others or the runner.

Started and stopped with the app (bot/app.py): on SIGTERM a run in progress may finish within
the stop's timeout, then it is cancelled (its transaction rolls back; the next run does it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import metrics
from bot.errors import describe

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
DEFAULT_TIMEOUT = 60.0  # seconds a run may take when the job names no timeout (at least `every`)

JOB_RUNS = metrics.counter(
    "job_runs",
    "Runs of the periodic jobs by job and outcome: ok, failed, timeout, cancelled",
    ["job", "outcome"],
)
JOB_SECONDS = metrics.histogram(
    "job_seconds",
    "Time a periodic job's run took",
    ["job"],
    (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)
JOB_LAST_SUCCESS = metrics.gauge(
    "job_last_success_timestamp_seconds",
    "When a periodic job last ran without failing (Unix time; 0 until then)",
    ["job"],
)

JobFunction = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str  # short and fixed: it is a label on /metrics and a word in the logs
    every: float  # seconds from the start of one run to the start of the next
    run: JobFunction
    timeout: float  # a run taking longer is cancelled and counted as failed
    first_after: float  # seconds after start-up before the first run


class PeriodicJobs:
    """The jobs of one instance, each in a loop of its own."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(self._jobs.values())

    def add(
        self,
        name: str,
        *,
        every: float,
        run: JobFunction,
        timeout: float | None = None,
        first_after: float | None = None,
    ) -> Job:
        """Register a job; its first run comes `first_after` seconds after start (default: at a
        random moment within its first interval, so instances started together spread out)."""
        if not NAME.fullmatch(name):
            raise ValueError(f"a job's name is short, lower case and fixed: {name!r}")
        if name in self._jobs:
            raise ValueError(f"a job named {name!r} is registered already")
        if every <= 0:
            raise ValueError("a job's interval must be above zero")
        if self._tasks:
            raise RuntimeError("jobs are registered before the runner starts")
        job = Job(
            name=name,
            every=every,
            run=run,
            timeout=timeout if timeout is not None else max(every, DEFAULT_TIMEOUT),
            first_after=first_after if first_after is not None else random.uniform(0, every),
        )
        self._jobs[name] = job
        JOB_LAST_SUCCESS.labels(name)  # the series shows (as 0) before the first run
        return job

    def start(self) -> None:
        """Run every job in the background until `stop`."""
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"job-{job.name}")
            for job in self._jobs.values()
        ]

    async def stop(self, grace: float = 10.0) -> None:
        """Start no new run; let runs in progress finish within `grace` s, then cancel them."""
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            log.warning("periodic job %s did not stop in time; cancelled", task.get_name())
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def run_once(self) -> dict[str, bool]:
        """Run every job once now, one after the other; whether each succeeded (for tests and
        operators)."""
        return {job.name: await self._run(job) for job in self._jobs.values()}

    async def _loop(self, job: Job) -> None:
        next_run = time.monotonic() + job.first_after
        while await self._sleep(next_run - time.monotonic()):
            await self._run(job)
            # Keep to the interval from each start; a run that took longer than the interval
            # is followed by the next at once, never by a burst of the ones missed.
            next_run = max(next_run + job.every, time.monotonic())

    async def _run(self, job: Job) -> bool:
        started = time.monotonic()
        outcome = "failed"
        deadline = asyncio.timeout(job.timeout)
        try:
            async with deadline:
                await job.run()
            outcome = "ok"
        except asyncio.CancelledError:
            outcome = "cancelled"  # stopping
            raise
        except Exception as error:
            if isinstance(error, TimeoutError) and deadline.expired():
                outcome = "timeout"
                log.error("periodic job %s took over %g s; cancelled", job.name, job.timeout)
            else:
                log.error("periodic job %s failed: %s", job.name, describe(error))
        finally:
            JOB_RUNS.labels(job.name, outcome).inc()
            JOB_SECONDS.labels(job.name).observe(time.monotonic() - started)
        if outcome == "ok":
            JOB_LAST_SUCCESS.labels(job.name).set(time.time())
        return outcome == "ok"

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early when stopping; False when stopping."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return not self._stopping.is_set()
