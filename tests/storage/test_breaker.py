"""The database breaker: fails at once while the database is away, recovers by itself."""

from __future__ import annotations

import asyncio

import pytest

from storage.breaker import Breaker, DatabaseUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def fail(breaker: Breaker, error: Exception) -> None:
    with pytest.raises((DatabaseUnavailable, type(error))):
        async with breaker.guard():
            raise error


async def succeed(breaker: Breaker) -> None:
    async with breaker.guard():
        pass


async def test_it_opens_after_the_database_failed_three_times_in_a_row() -> None:
    clock = Clock()
    breaker = Breaker(threshold=3, cooldown=5, clock=clock)
    for _ in range(2):
        await fail(breaker, ConnectionRefusedError())
    assert not breaker.is_open
    await fail(breaker, TimeoutError())
    assert breaker.is_open
    ran = False
    with pytest.raises(DatabaseUnavailable):
        async with breaker.guard():
            ran = True
    assert not ran, "an open breaker refuses before the call"


async def test_after_the_cooldown_one_call_tries_and_closes_it_on_success() -> None:
    clock = Clock()
    breaker = Breaker(threshold=1, cooldown=5, clock=clock)
    await fail(breaker, OSError())
    clock.now = 5.1
    async with breaker.guard():
        # Half-open: this call is the trial; another one meanwhile is refused.
        with pytest.raises(DatabaseUnavailable):
            async with breaker.guard():
                pass
    assert not breaker.is_open
    await succeed(breaker)


async def test_a_failed_trial_keeps_it_open_for_another_cooldown() -> None:
    clock = Clock()
    breaker = Breaker(threshold=1, cooldown=5, clock=clock)
    await fail(breaker, OSError())
    clock.now = 6
    await fail(breaker, OSError())
    clock.now = 10
    with pytest.raises(DatabaseUnavailable):
        await succeed(breaker)
    clock.now = 11.1
    await succeed(breaker)
    assert not breaker.is_open


async def test_a_call_past_its_time_limit_fails_as_unavailable() -> None:
    breaker = Breaker(call_timeout=0.05, threshold=1)
    with pytest.raises(DatabaseUnavailable):
        async with breaker.guard():
            await asyncio.sleep(5)
    assert breaker.is_open


async def test_errors_that_are_not_about_the_database_being_away_pass_through() -> None:
    breaker = Breaker(threshold=1)
    with pytest.raises(KeyError):
        async with breaker.guard():
            raise KeyError("a bug, not an outage")
    assert not breaker.is_open
