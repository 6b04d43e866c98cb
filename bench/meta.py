"""What a run was: machine, versions, revision and settings, for the header and the JSON."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import wrk_version
from bench.processes import PROJECT
from bench.serve import KINDS, loop_for

SPEED_LOOP = 10_000_000

# Wegwijzer runs without APP_ID, so no token is checked or fetched; the run must say so.
AUTH_NOTE = (
    "auth off (no APP_ID) for the benchmark; tenant guard, typing indicator, SQL state, "
    "dialogs and card rendering on"
)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(PROJECT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _git_revision() -> str:
    try:
        revision = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return revision + ("+changes" if dirty else "")


def python_speed_s() -> float:
    """Seconds a fixed piece of pure Python takes here: how fast this machine is right now.

    On a shared machine this swings by a factor of two over a day; absolute figures (start-up
    above all) are only comparable between runs with a similar value.
    """
    began = time.perf_counter()
    total = 0
    for number in range(SPEED_LOOP):
        total += number
    return round(time.perf_counter() - began, 3)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def describe_run(args: argparse.Namespace, started: datetime) -> dict[str, Any]:
    return {
        "created_utc": started.isoformat(timespec="seconds"),
        "auth": AUTH_NOTE,
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "event_loop": {kind: loop_for(kind) for kind in KINDS},
            "botbuilder_core": metadata.version("botbuilder-core"),
            "aiohttp": metadata.version("aiohttp"),
            "wrk": await wrk_version(),
            "git": _git_revision(),
            "python_loop_s": python_speed_s(),
        },
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "threads": args.threads,
            "users_per_thread": args.users or "auto",
            "only": list(args.only),
            "databases": list(args.databases),
        },
    }


def header(meta: dict[str, Any]) -> list[str]:
    machine, settings = meta["machine"], meta["settings"]
    return [
        f"Wegwijzer benchmark, {meta['created_utc']} (git {machine['git']})",
        f"machine: {machine['cpu_count']} CPUs ({machine['cpu_model']}), "
        f"Python {machine['python']}, botbuilder {machine['botbuilder_core']}, "
        f"aiohttp {machine['aiohttp']}, {machine['wrk']}",
        f"load: wrk {settings['threads']} threads, {settings['connections']} connections, "
        f"{settings['warmup_s']} s warm-up then {settings['duration_s']} s measured per server, "
        f"users per thread: {settings['users_per_thread']}"
        + (" (from each server's warm-up rate)" if settings["users_per_thread"] == "auto" else ""),
        f"machine speed now: {SPEED_LOOP:,} additions in pure Python took "
        f"{machine['python_loop_s']:.2f} s (compare runs by it: the machine is shared)",
        f"wegwijzer: {meta['auth']}",
        "event loops: "
        + ", ".join(f"{kind} on {loop}" for kind, loop in machine["event_loop"].items())
        + " (the floor on Wegwijzer's, the echo bot on the official sample's)",
        "wrk, the server and the fake connector share this machine's CPUs.",
    ]
