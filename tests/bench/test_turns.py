"""`python -m bench.turns` walks the scenario in one process and reports a cost per turn."""

from __future__ import annotations

from bench import turns


async def test_walking_the_scenario_reports_a_cpu_time_per_turn(sqlite_url: str) -> None:
    per_turn, on_loop = await turns.walk(sqlite_url, users=1, warmup_users=1, callgrind=False)
    assert 0 < per_turn < 1  # seconds: every turn was answered, none took a second of CPU
    assert 0 < on_loop <= per_turn  # the loop's thread is part of the process
