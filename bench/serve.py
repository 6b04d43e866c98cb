"""`python -m bench.serve <kind> --port P`: one benchmark server in this process, until SIGTERM.

Kinds: floor, echo, wegwijzer (needs --database-url) and connector (the fake Bot Connector).
Every kind also runs the event-loop stall monitor and answers /bench/stats and /bench/reset.

Wegwijzer runs on the loop it serves on in production (bot/event_loop.py), and the floor on the
same one, so that the floor stays the same stack without the bot. The echo bot runs on asyncio's
loop, as Microsoft's sample does; the fake connector, the same for every run, does too.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from bench.monitor import add_bench_routes
from bot.event_loop import loop_name, new_event_loop

KINDS = ("floor", "echo", "wegwijzer", "connector")
HOST = "127.0.0.1"
ON_THE_BOTS_LOOP = frozenset({"floor", "wegwijzer"})


def loop_for(kind: str) -> str:
    """The kind of event loop the server `kind` runs on: 'uvloop' or 'asyncio'."""
    return loop_name() if kind in ON_THE_BOTS_LOOP else "asyncio"


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(kind: str, database_url: str | None, speedups: bool = True) -> web.Application:
    """The application of `kind`, with the benchmark's routes added."""
    if kind == "floor":
        from bench.floor import create_floor_app

        app = create_floor_app()
    elif kind == "echo":
        from bench.echo import create_echo_app

        app = create_echo_app()
    elif kind == "wegwijzer":
        from bench.wegwijzer import create_wegwijzer_app

        if database_url is None:
            raise SystemExit("wegwijzer needs --database-url")
        app = create_wegwijzer_app(database_url, speedups=speedups)
        from bot.cli import tune_garbage_collector

        tune_garbage_collector()  # as `wegwijzer serve` does
    else:
        from bench.connector import FakeConnector

        connector = FakeConnector()
        app = connector.app()
        app.router.add_get("/healthz", _healthz)
        add_bench_routes(app, extra_stats=connector.stats, on_reset=connector.reset)
        return app
    add_bench_routes(app)
    return app


async def serve(app: web.Application, port: int) -> None:
    """Serve `app` on the loopback port until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    root.add_argument("kind", choices=KINDS)
    root.add_argument("--port", type=int, required=True)
    root.add_argument("--database-url", help="for wegwijzer: the (migrated) database to use")
    root.add_argument(
        "--speedups-off",
        action="store_true",
        help="for wegwijzer: SPEEDUPS=false (bot/speedups.py)",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    async def run() -> None:
        # Built inside the loop: some parts (client sessions, adapters) bind to it.
        await serve(build_app(args.kind, args.database_url, not args.speedups_off), args.port)

    with asyncio.Runner(
        loop_factory=new_event_loop if args.kind in ON_THE_BOTS_LOOP else None
    ) as runner:
        runner.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
