"""The results: a table, the ratios, the issue's targets, and the same as JSON."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runner import RunResult
from bench.scenario import STEPS

COLUMNS: tuple[tuple[str, Callable[[RunResult], str]], ...] = (
    ("server", lambda r: r.name),
    ("users/thr", lambda r: str(r.users_per_thread)),
    ("turns/s", lambda r: f"{r.load.turns_per_s:,.0f}"),
    ("p50 ms", lambda r: f"{r.load.p50_ms:.1f}"),
    ("p95 ms", lambda r: f"{r.load.p95_ms:.1f}"),
    ("p99 ms", lambda r: f"{r.load.p99_ms:.1f}"),
    ("non-2xx", lambda r: str(r.load.non_2xx)),
    ("sock err", lambda r: str(r.load.socket_errors)),
    ("stall ms", lambda r: f"{r.max_stall_ms:.1f}"),
    ("loop CPU ms/turn", lambda r: f"{r.loop_cpu_ms_per_turn:.3f}"),
    ("CPU ms/turn", lambda r: f"{r.cpu_ms_per_turn:.3f}"),
    ("RSS MB", lambda r: f"{r.peak_rss_mb:.0f}"),
    ("start s", lambda r: f"{r.startup_s:.2f}"),
    ("replies/turn", lambda r: f"{r.replies_per_turn:.2f}"),
    ("typing/turn", lambda r: f"{r.typing_per_turn:.2f}"),
)


@dataclass(frozen=True)
class Check:
    """One of issue 4's targets for one Wegwijzer run."""

    run: str
    target: str
    value: str
    passed: bool | None  # None: could not be judged (the reference was not run)


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def table(results: Sequence[RunResult]) -> list[str]:
    rows = [[name for name, _ in COLUMNS]] + [[cell(r) for _, cell in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])

    return [line(rows[0]), "  ".join("-" * w for w in widths), *(line(r) for r in rows[1:])]


def _startups(result: RunResult) -> str:
    """The median start-up, with the range over all starts when there were several."""
    if len(result.startups_s) < 2:
        return f"{result.startup_s:.2f} s"
    low, high = min(result.startups_s), max(result.startups_s)
    return f"{result.startup_s:.2f} s ({low:.2f}-{high:.2f})"


def _by_kind(results: Sequence[RunResult], kind: str) -> RunResult | None:
    return next((r for r in results if r.kind == kind), None)


def ratios(results: Sequence[RunResult]) -> dict[str, dict[str, float]]:
    """Wegwijzer's turns/s over echo's and floor's, per database."""
    found: dict[str, dict[str, float]] = {}
    for result in results:
        if result.kind != "wegwijzer":
            continue
        for kind in ("echo", "floor"):
            reference = _by_kind(results, kind)
            if reference is not None and reference.load.turns_per_s > 0:
                found.setdefault(result.name, {})[f"{result.kind}/{kind}"] = (
                    result.load.turns_per_s / reference.load.turns_per_s
                )
    return found


def checks(results: Sequence[RunResult]) -> list[Check]:
    """Issue 4's targets, judged for every Wegwijzer run with the speed-ups on."""
    found: list[Check] = []
    for r in results:
        if r.kind != "wegwijzer" or not r.speedups:
            continue
        ratio = ratios(results).get(r.name, {})
        versus_echo = ratio.get("wegwijzer/echo")
        versus_floor = ratio.get("wegwijzer/floor")
        found += [
            Check(
                r.name,
                "turns/s >= 15x echo",
                f"{versus_echo:.1f}x" if versus_echo is not None else "echo not run",
                versus_echo >= 15 if versus_echo is not None else None,
            ),
            Check(
                r.name,
                "turns/s >= 25% of floor",
                f"{versus_floor:.0%}" if versus_floor is not None else "floor not run",
                versus_floor >= 0.25 if versus_floor is not None else None,
            ),
            Check(r.name, "p99 <= 50 ms", f"{r.load.p99_ms:.1f} ms", r.load.p99_ms <= 50),
            Check(r.name, "max stall <= 50 ms", f"{r.max_stall_ms:.1f} ms", r.max_stall_ms <= 50),
            Check(r.name, "start-up < 2 s", _startups(r), r.startup_s < 2),
            Check(r.name, "peak RSS < 200 MB", f"{r.peak_rss_mb:.0f} MB", r.peak_rss_mb < 200),
            Check(r.name, "no errors, a reply per turn", _errors(r), not r.problems),
        ]
    return found


def _errors(result: RunResult) -> str:
    return "none" if not result.problems else f"{len(result.problems)} problem(s)"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def step_mix(result: RunResult) -> str:
    total = sum(result.load.sent_per_step) or 1
    return ", ".join(
        f"{step.name} {sent / total:.0%}"
        for step, sent in zip(STEPS, result.load.sent_per_step, strict=True)
    )


def _print_checks(results: Sequence[RunResult]) -> None:
    for result in results:
        if not result.check:
            continue
        out(f"Scenario check, {result.name} (one user, what reached the connector):")
        for turn in result.check:
            verdict = "ok" if turn.problem is None else f"PROBLEM: {turn.problem}"
            out(f"  {turn.step:<9} HTTP {turn.status}  {verdict}")
            for reply in turn.replies:
                out(f"      -> {reply}")
        out()


def _print_mix(results: Sequence[RunResult]) -> None:
    for result in results:
        out(f"Turn mix sent, {result.name}: {step_mix(result)}")
        # Floor and echo do the same for every step; only Wegwijzer's figures depend on the mix.
        if result.kind == "wegwijzer" and result.load.steps_reached < len(STEPS):
            out(
                f"  note: the measured run reached {result.load.steps_reached} of {len(STEPS)} "
                "steps; lower --users or raise --duration to cover the whole scenario"
            )


def _print_targets(results: Sequence[RunResult]) -> None:
    for name, found in ratios(results).items():
        shown = ", ".join(f"{key} = {value:.2f}" for key, value in found.items())
        out(f"Ratios, {name}: {shown}")
    judged = checks(results)
    if not judged:
        return
    out()
    out("Targets (issue 4):")
    width = max(len(c.run) for c in judged)
    for c in judged:
        out(f"  {c.run:<{width}}  {c.target:<28} {c.value:>14}  {_verdict(c.passed)}")


def print_report(results: Sequence[RunResult], *, notes: Sequence[str]) -> None:
    for line in table(results):
        out(line)
    out()
    _print_checks(results)
    _print_mix(results)
    for result in results:
        for problem in result.problems:
            out(f"FLAGGED {result.name}: {problem}")
    out()
    _print_targets(results)
    if notes:
        out()
    for note in notes:
        out(note)


def write_json(
    path: Path, results: Sequence[RunResult], *, meta: dict[str, Any], notes: Sequence[str]
) -> None:
    document = {
        **meta,
        "notes": list(notes),
        "runs": [
            {
                **dataclasses.asdict(result),
                "turn_mix": dict(
                    zip((s.name for s in STEPS), result.load.sent_per_step, strict=True)
                ),
                "flagged": bool(result.problems),
            }
            for result in results
        ],
        "ratios": ratios(results),
        "targets": [dataclasses.asdict(c) for c in checks(results)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
