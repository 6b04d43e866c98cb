"""Benchmark one server: start it, check it, warm it up, measure it, read its figures, stop it."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp

from bench.check import TurnSeen, walk_scenario
from bench.load import Load, LoadResult, run_wrk
from bench.processes import Processes, Server, get_json, post_json, start
from bench.scenario import STEPS, template

WARMUP_RUN = 1
MEASURED_RUN = 2
# With --users auto, the measured run should walk the whole scenario about this many times.
SCENARIO_WALKS = 2
MAX_USERS_PER_THREAD = 2000
# Lets replies of turns still in flight when wrk stopped reach the connector before counting.
SETTLE_SECONDS = 0.3
LOG_SCAN_CHARS = 1_000_000
# How often each server is started to time its start-up; the median is reported.
STARTS = 3


@dataclass(frozen=True)
class Target:
    """A server to benchmark: its kind and, for Wegwijzer, the database it runs on."""

    kind: str
    database: str | None = None
    database_url: str | None = None
    speedups: bool = True  # False: Wegwijzer with SPEEDUPS=false, the stock Bot Framework paths

    @property
    def name(self) -> str:
        if not self.database:
            return self.kind
        return f"{self.kind} ({self.database}{'' if self.speedups else ', speed-ups off'})"


@dataclass
class RunResult:
    """Everything measured for one server."""

    name: str
    kind: str
    database: str | None
    users_per_thread: int
    startup_s: float
    load: LoadResult
    max_stall_ms: float
    stalls_over_50ms: int
    loop_cpu_ms_per_turn: float  # the event loop's thread, which limits the turns per second
    cpu_ms_per_turn: float  # the whole server process, every thread
    peak_rss_mb: float
    connector: dict[str, Any]
    replies_per_turn: float
    typing_per_turn: float
    check: list[TurnSeen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    startups_s: list[float] = field(default_factory=list)  # every start; startup_s is the median
    speedups: bool = True


@dataclass(frozen=True)
class Bench:
    """What every run shares: the HTTP client, the processes, the connector and the load."""

    http: aiohttp.ClientSession
    processes: Processes
    connector: Server
    load: Load
    warmup_s: int
    users_per_thread: int | None  # None: chosen per server from its warm-up rate


def min_users(load: Load) -> int:
    """Users per thread: five times its connections, so a user's turns lie far apart in time."""
    per_thread = -(-load.connections // load.threads)
    return max(50, 5 * per_thread)


def users_for(turns_per_s: float, load: Load) -> int:
    """Users per thread so the measured run walks the scenario about SCENARIO_WALKS times.

    A user's next step comes only after every other user of the thread had a turn, so with
    too many users a slow server would only ever see the scenario's first step.
    """
    per_thread = turns_per_s / load.threads * load.duration_s
    wanted = int(per_thread / (SCENARIO_WALKS * len(STEPS)))
    return max(min_users(load), min(MAX_USERS_PER_THREAD, wanted))


async def _reset(http: aiohttp.ClientSession, *servers: Server) -> None:
    for server in servers:
        await post_json(http, server.url + "/bench/reset")


async def run_target(bench: Bench, target: Target) -> RunResult:
    """Benchmark `target` in a process of its own; the process is stopped whatever happens."""
    args = ["--database-url", target.database_url] if target.database_url else []
    if not target.speedups:
        args.append("--speedups-off")
    if target.kind == "wegwijzer" and target.database_url:
        # As `make run` does: migrate first, then serve; start-up is measured for serving only.
        await asyncio.to_thread(migrate, target.database_url)
    ready_path = "/readyz" if target.kind == "wegwijzer" else "/healthz"
    # Start-up is timed over a few starts (the last one is measured under load): one start on
    # this shared machine varies by half a second from one minute to the next.
    startups: list[float] = []
    for _ in range(STARTS - 1):
        server = await start(bench.processes, bench.http, target.kind, *args, ready_path=ready_path)
        bench.processes.stop(server.process)
        startups.append(server.startup_s)
    server = await start(bench.processes, bench.http, target.kind, *args, ready_path=ready_path)
    startups.append(server.startup_s)
    try:
        result = await _measure(bench, target, server)
    finally:
        bench.processes.stop(server.process)
    result.startups_s = startups
    result.startup_s = statistics.median(startups)
    result.problems += log_problems(server.log_tail(LOG_SCAN_CHARS))
    return result


def migrate(database_url: str) -> None:
    """`wegwijzer db upgrade` on the benchmark's database, in a process of its own."""
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


def log_problems(log: str) -> list[str]:
    """Errors the server logged while it ran (its log level is WARNING)."""
    lines = log.splitlines()
    errors = [line for line in lines if " ERROR " in line or line.startswith("Traceback")]
    if not errors:
        return []
    return [f"{len(errors)} error line(s) in the server log, the first: {errors[0][:200]}"]


async def _measure(bench: Bench, target: Target, server: Server) -> RunResult:
    http, connector = bench.http, bench.connector
    service_url = connector.url + "/"
    templates = [template(service_url, step) for step in STEPS]
    check: list[TurnSeen] = []
    if target.kind == "wegwijzer":
        check = await walk_scenario(
            http, bot_url=server.url, connector_url=connector.url, service_url=service_url
        )
    users = bench.users_per_thread or MAX_USERS_PER_THREAD
    if bench.warmup_s > 0:
        # Few users, so the warm-up reaches every step (and every code path) quickly.
        warmup = replace(
            bench.load, duration_s=bench.warmup_s, users_per_thread=min_users(bench.load)
        )
        warm = await run_wrk(server.url, warmup, run=WARMUP_RUN, templates=templates)
        if bench.users_per_thread is None:
            users = users_for(warm.turns_per_s, bench.load)
        await asyncio.sleep(SETTLE_SECONDS)
    await _reset(http, server, connector)
    measured = replace(bench.load, users_per_thread=users)
    load = await run_wrk(server.url, measured, run=MEASURED_RUN, templates=templates)
    await asyncio.sleep(SETTLE_SECONDS)
    server_stats = await get_json(http, server.url + "/bench/stats")
    connector_stats = await get_json(http, connector.url + "/bench/stats")
    by_type: dict[str, int] = connector_stats["by_type"]
    turns = max(load.requests, 1)
    result = RunResult(
        name=target.name,
        kind=target.kind,
        database=target.database,
        users_per_thread=users,
        startup_s=server.startup_s,
        load=load,
        max_stall_ms=server_stats["max_stall_ms"],
        stalls_over_50ms=server_stats["stalls_over_50ms"],
        loop_cpu_ms_per_turn=server_stats["loop_cpu_s"] * 1000 / turns,
        cpu_ms_per_turn=server_stats["process_cpu_s"] * 1000 / turns,
        peak_rss_mb=server.peak_rss_mb(),
        connector=by_type,
        replies_per_turn=by_type.get("message", 0) / turns,
        typing_per_turn=by_type.get("typing", 0) / turns,
        check=check,
        speedups=target.speedups,
    )
    result.problems = problems_of(result)
    return result


def problems_of(result: RunResult) -> list[str]:
    """What makes the figures of a run suspect."""
    problems: list[str] = []
    load = result.load
    if load.non_2xx:
        problems.append(f"{load.non_2xx} non-2xx responses")
    if load.socket_errors:
        problems.append(
            f"{load.socket_errors} socket errors (connect {load.connect_errors}, read "
            f"{load.read_errors}, write {load.write_errors}, timeout {load.timeouts})"
        )
    if load.requests == 0:
        problems.append("no turns completed")
    # Turns still in flight when wrk stops may add a reply or two, never take one away.
    if result.replies_per_turn < 1.0:
        problems.append(
            f"only {result.replies_per_turn:.3f} replies per turn reached the connector"
        )
    problems.extend(
        f"check, step {turn.step}: {turn.problem}" for turn in result.check if turn.problem
    )
    return problems
