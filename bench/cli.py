"""`python -m bench`: parse the options, run every server in turn, report."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import postgres
from bench.load import Load, wrk_path
from bench.meta import describe_run, header
from bench.processes import PROJECT, BenchError, Processes, start
from bench.report import out, print_report, write_json
from bench.runner import MAX_USERS_PER_THREAD, Bench, RunResult, Target, run_target

KINDS = ("floor", "echo", "wegwijzer")
DATABASES = ("sqlite", "postgresql")


def _names(allowed: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}")
        return names

    return parse


def _users(text: str) -> int | None:
    return None if text == "auto" else _positive(text)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _seconds(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bench",
        description="Throughput of Wegwijzer against the stock echo bot and an aiohttp floor.",
    )
    root.add_argument(
        "--duration", type=_positive, default=10, help="measured seconds per server (10)"
    )
    root.add_argument("--warmup", type=_seconds, default=2, help="warm-up seconds, 0: none (2)")
    root.add_argument("--connections", type=_positive, default=20, help="wrk connections (20)")
    root.add_argument("--threads", type=_positive, default=2, help="wrk threads (2)")
    root.add_argument(
        "--users",
        type=_users,
        default=None,
        help="distinct users per wrk thread (default auto: from each server's warm-up rate, so "
        f"the measured run walks the scenario about twice; at most {MAX_USERS_PER_THREAD})",
    )
    root.add_argument(
        "--only", type=_names(KINDS), default=KINDS, help=f"servers to run ({','.join(KINDS)})"
    )
    root.add_argument(
        "--databases",
        type=_names(DATABASES),
        default=DATABASES,
        help=f"databases for wegwijzer ({','.join(DATABASES)})",
    )
    root.add_argument(
        "--json", type=Path, help="results file (bench-results/bench-<UTC timestamp>.json)"
    )
    return root


def _validate(root: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.connections < args.threads:
        root.error("--connections must be at least --threads")
    per_thread = -(-args.connections // args.threads)
    if args.users is not None and args.users <= per_thread:
        # Otherwise one user's next turn could start before their previous one ended.
        root.error(f"--users must exceed the connections per thread ({per_thread})")


async def _targets(args: argparse.Namespace, scratch: Path) -> tuple[list[Target], list[str]]:
    targets = [Target(kind) for kind in args.only if kind != "wegwijzer"]
    notes: list[str] = []
    if "wegwijzer" not in args.only:
        return targets, notes
    for database in args.databases:
        if database == "sqlite":
            url = f"sqlite+aiosqlite:///{scratch / 'wegwijzer-bench.db'}"
            targets.append(Target("wegwijzer", "sqlite", url))
            # The same with SPEEDUPS=false, to show what the speed-ups are worth.
            targets.append(Target("wegwijzer", "sqlite", url, speedups=False))
            continue
        reason = await postgres.recreate_database()
        if reason is None:
            targets.append(Target("wegwijzer", "postgresql", postgres.DATABASE_URL))
        else:
            notes.append(f"SKIPPED wegwijzer (postgresql): {reason}")
    return targets, notes


async def run(args: argparse.Namespace, processes: Processes, scratch: Path) -> int:
    started = datetime.now(UTC)
    main_task = asyncio.current_task()
    assert main_task is not None
    # SIGTERM ends the run like Ctrl-C does: cancelled, so every server is stopped on the way out.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    meta = await describe_run(args, started)
    for line in header(meta):
        out(line)
    load = Load(args.duration, args.connections, args.threads, args.users or MAX_USERS_PER_THREAD)
    async with aiohttp.ClientSession() as http:
        targets, notes = await _targets(args, scratch)
        for note in notes:
            out(note)
        connector = await start(processes, http, "connector")
        bench = Bench(http, processes, connector, load, args.warmup, args.users)
        results: list[RunResult] = []
        for target in targets:
            out(f"running {target.name} ...")
            try:
                results.append(await run_target(bench, target))
            except BenchError as error:
                notes.append(f"FAILED {target.name}: {error}")
                out(notes[-1])
    out()
    print_report(results, notes=notes)
    path = args.json or PROJECT / "bench-results" / f"bench-{started:%Y%m%dT%H%M%SZ}.json"
    write_json(path, results, meta=meta, notes=notes)
    out(f"\nresults written to {path}")
    failed = any(r.problems for r in results) or any(n.startswith("FAILED") for n in notes)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    root = parser()
    args = root.parse_args(argv)
    _validate(root, args)
    try:
        wrk_path()
        with (
            tempfile.TemporaryDirectory(prefix="wegwijzer-bench-") as scratch,
            Processes(Path(scratch)) as processes,
        ):
            return asyncio.run(run(args, processes, Path(scratch)))
    except BenchError as error:
        sys.stderr.write(f"bench: {error}\n")
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.stderr.write("bench: interrupted; servers stopped\n")
        return 130
