"""Drive load with wrk and the traffic script, and read its figures back."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.processes import BenchError, die_with_parent

SCRIPT = Path(__file__).resolve().parent / "traffic.lua"
RESULT_MARKER = "BENCH_RESULT "
# Far above any target: a slow turn should show in the latencies, not as a socket timeout.
REQUEST_TIMEOUT = "10s"


@dataclass(frozen=True)
class Load:
    """How to drive one wrk run."""

    duration_s: int
    connections: int
    threads: int
    users_per_thread: int


@dataclass(frozen=True)
class LoadResult:
    """What wrk measured over one run; latencies in milliseconds."""

    duration_s: float
    requests: int
    turns_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    sent_per_step: list[int]

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def steps_reached(self) -> int:
        """How many scenario steps the run got to (all of them once users walked them all)."""
        return sum(1 for sent in self.sent_per_step if sent)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: apt-get install -y wrk (or run `make bench`)")
    return path


async def wrk_version() -> str:
    process = await asyncio.create_subprocess_exec(
        wrk_path(), "-v", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return output.decode(errors="replace").splitlines()[0].strip() if output else "unknown"


async def run_wrk(url: str, load: Load, *, run: int, templates: Sequence[str]) -> LoadResult:
    """Run wrk against the server at `url`; `run` keeps the users of different runs apart."""
    command = [
        wrk_path(),
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={load.duration_s}s",
        f"--timeout={REQUEST_TIMEOUT}",
        f"--script={SCRIPT}",
        url + "/",
        "--",
        str(run),
        str(load.users_per_thread),
        *templates,
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    try:
        stdout, stderr = await process.communicate()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await asyncio.shield(process.wait())
        raise
    output = stdout.decode(errors="replace")
    for line in output.splitlines():
        if line.startswith(RESULT_MARKER):
            return parse_result(line.removeprefix(RESULT_MARKER))
    raise BenchError(
        f"wrk exited with {process.returncode} without a result:\n{output}\n"
        + stderr.decode(errors="replace")
    )


def parse_result(text: str) -> LoadResult:
    """The figures traffic.lua's done() printed, converted to seconds and milliseconds."""
    raw = json.loads(text)
    duration_s = raw["duration_us"] / 1e6
    return LoadResult(
        duration_s=duration_s,
        requests=raw["requests"],
        turns_per_s=raw["requests"] / duration_s if duration_s else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        non_2xx=raw["non_2xx"],
        connect_errors=raw["connect_errors"],
        read_errors=raw["read_errors"],
        write_errors=raw["write_errors"],
        timeouts=raw["timeouts"],
        sent_per_step=list(raw["sent_per_step"]),
    )
