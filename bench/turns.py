"""`python -m bench.turns`: the scenario's turns one after the other, in one process, to count cost.

The load benchmark (`make bench`) measures throughput and latency, which on a shared machine swing
by 20% or more from one minute to the next. To compare two versions of the code, this runs the
bot, the fake Bot Connector and a client in one process and walks the scenario for a number of
users, one turn at a time, after a warm-up. It prints the CPU time per turn; under callgrind
(`--callgrind`) it also counts only the measured turns, and callgrind's instruction count is the
same from run to run (to 0.1%) whatever else the machine is doing:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/turns.%p \\
        .venv/bin/python -m bench.turns --users 20 --callgrind
    grep -E '^(summary|totals):' /tmp/turns.*.1   # instructions; divide by the turns printed

The count includes the client and the fake connector, which do the same work for any version.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.connector import FakeConnector
from bench.runner import migrate
from bench.scenario import STEPS, fill, template
from bench.serve import HOST
from bench.wegwijzer import benchmark_settings
from bot.app import create_app
from bot.cli import tune_garbage_collector
from bot.event_loop import new_event_loop


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    return runner, f"http://{HOST}:{port}"


def _callgrind(*command: str) -> None:
    """Ask callgrind (if this process runs under it) to start, dump or stop counting."""
    tool = shutil.which("callgrind_control")
    if tool is None:
        raise SystemExit("--callgrind needs callgrind_control (Debian package valgrind)")
    subprocess.run([tool, *command, str(os.getpid())], capture_output=True, check=False)


async def walk(
    database_url: str, users: int, warmup_users: int, callgrind: bool
) -> tuple[float, float]:
    """Walk the scenario for the warm-up users, then for `users` more.

    Returns the CPU seconds per turn of the whole process and of the event loop's thread alone
    (the state's SQLite threads and any HTTP client threads work beside it).
    """
    connector, connector_url = await _serve(FakeConnector().app())
    # The outbox dispatcher and the periodic jobs run on a clock: under callgrind, whose run takes
    # minutes, they would add counts that depend on how long the run took. No part of a turn.
    settings = benchmark_settings(database_url).model_copy(
        update={"OUTBOX_ENABLED": False, "JOBS_ENABLED": False}
    )
    bot, bot_url = await _serve(create_app(settings))
    tune_garbage_collector()  # as `wegwijzer serve` and the benchmark's server do
    templates = [template(connector_url + "/", step) for step in STEPS]
    try:
        async with aiohttp.ClientSession() as http:

            async def turns(first_user: int, count: int) -> None:
                for user in range(first_user, first_user + count):
                    for number, body in enumerate(templates):
                        filled = fill(
                            body,
                            activity_id=f"turns-{user}-{number}",
                            aad=f"00000000-0000-4000-8000-{user:012x}",
                            conversation=f"a:turns-{user}",
                        )
                        async with http.post(
                            bot_url + "/api/messages",
                            data=filled,
                            headers={"Content-Type": "application/json"},
                        ) as response:
                            if response.status not in (200, 201):
                                raise SystemExit(f"the bot answered {response.status}")

            await turns(0, warmup_users)
            if callgrind:
                _callgrind("--instr=on")
            began, began_loop = time.process_time(), time.thread_time()
            await turns(warmup_users, users)
            spent, spent_loop = time.process_time() - began, time.thread_time() - began_loop
            if callgrind:
                _callgrind("--dump=measured")
                _callgrind("--instr=off")
    finally:
        await bot.cleanup()
        await connector.cleanup()
    count = users * len(STEPS)
    return spent / count, spent_loop / count


def main(argv: Sequence[str] | None = None) -> int:
    root = argparse.ArgumentParser(prog="python -m bench.turns", description=__doc__)
    root.add_argument("--users", type=int, default=20, help="users walking the scenario (20)")
    root.add_argument("--warmup-users", type=int, default=3, help="users before measuring (3)")
    root.add_argument("--database-url", help="a database to use; default: a new SQLite file")
    root.add_argument("--callgrind", action="store_true", help="count only the measured turns")
    args = root.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wegwijzer-turns-") as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'turns.db'}"
        migrate(url)
        with asyncio.Runner(loop_factory=new_event_loop) as runner:  # the loop the bot serves on
            per_turn, on_loop = runner.run(walk(url, args.users, args.warmup_users, args.callgrind))
    turns = args.users * len(STEPS)
    sys.stdout.write(
        f"turns {turns}  CPU per turn {per_turn * 1000:.3f} ms (one process),"
        f" {on_loop * 1000:.3f} ms on the loop's thread\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
