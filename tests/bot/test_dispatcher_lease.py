"""A message is in one dispatcher's hands at a time: its lease outlasts any send, and is kept
until the send starts however long the message waited (a 429's pause, a full second).

Two dispatchers on one SQLite outbox: both send there (the sending role is PostgreSQL's), so
the lease is the only guard, which is what these tests want to see hold. Counted at the
connector: no two calls for one message ever overlap, and each message is accepted once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest

from bench.outbox_connector import Call
from bot.dispatcher import Dispatcher, DispatchLimits
from services.outbox import Recipient
from tests.bot.outbox_fixtures import FAST, Outbox, sqlite_outbox

# A send may take 0.5 s; a lease lasts that plus twice the margin.
SHORT = replace(FAST, send_timeout=0.5, lease_margin=0.2, lease_seconds=0.9, poll_seconds=0.05)


@pytest.fixture
async def outbox(sqlite_url: str) -> AsyncIterator[Outbox]:
    async with sqlite_outbox(sqlite_url) as box:
        yield box


async def keep_running(dispatcher: Dispatcher, until: Callable[[], bool]) -> None:
    while not until():
        await dispatcher.run_once()
        await asyncio.sleep(0.02)


async def within(work: Awaitable[object], seconds: float = 20.0) -> None:
    await asyncio.wait_for(work, seconds)


def assert_never_overlapping(calls: list[Call]) -> None:
    # A call ends when the connector answers it, or when its sender gave up (the send's
    # timeout): the connector itself notices a sender gone only at its next look.
    spans = sorted(
        (call.started, min(call.ended or float("inf"), call.started + SHORT.send_timeout))
        for call in calls
    )
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        assert second_start >= first_end, "two dispatchers had the message at once"


def test_a_lease_shorter_than_a_send_and_its_margin_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than a send"):
        DispatchLimits(send_timeout=30, lease_margin=10, lease_seconds=49)
    DispatchLimits(send_timeout=30, lease_margin=10, lease_seconds=50)


async def test_a_send_that_times_out_is_not_taken_by_another_instance_meanwhile(
    outbox: Outbox,
) -> None:
    await outbox.remember("anna")
    await outbox.queue("k", Recipient.person("anna"))
    slow = iter([1.0])  # the first call hangs past the send's timeout; Teams may have it
    outbox.connector.latency = lambda: next(slow, 0.0)
    first, second = outbox.dispatcher(SHORT), outbox.dispatcher(SHORT)

    # Both poll; whichever claims it first has the call that hangs.
    poller = asyncio.create_task(keep_running(second, lambda: bool(outbox.connector.received)))
    await within(keep_running(first, lambda: bool(outbox.connector.received)))
    await within(poller)

    calls = outbox.connector.calls
    assert len(calls) == 2, "the timed-out send, then one retry after its outcome"
    assert_never_overlapping(calls)
    assert calls[1].started - calls[0].started >= SHORT.send_timeout
    assert len(outbox.connector.received) == 1
    [row] = await outbox.rows()
    assert (row.state, row.attempts) == ("sent", 2)


@pytest.mark.parametrize("instances", [1, 2])
async def test_a_message_held_through_a_pause_longer_than_its_lease_is_sent_once(
    outbox: Outbox, instances: int
) -> None:
    # One instance: its own next claim must not take the messages it holds. Two: the other
    # may take them once their lease ran out, and then the first must not send them.
    for person in ("anna", "bram", "cem"):
        await outbox.remember(person)
        await outbox.queue(person, Recipient.person(person))
    outbox.connector.any_call.append((429, 1.5))  # the first call: everything waits 1.5 s
    # Sends 0.2 s apart: the others are still waiting when the 429 comes back.
    dispatchers = [outbox.dispatcher(replace(SHORT, rate_per_second=5)) for _ in range(instances)]

    def all_sent() -> bool:
        return len({r.conversation_id for r in outbox.connector.received}) == 3

    await within(asyncio.gather(*(keep_running(d, all_sent) for d in dispatchers)))
    await asyncio.sleep(0.3)  # a second send of any of them would come now

    for person in ("anna", "bram", "cem"):
        assert len(outbox.connector.to(f"a:{person}")) == 1
        assert_never_overlapping(
            [c for c in outbox.connector.calls if c.conversation_id == f"a:{person}"]
        )
    assert {row.state for row in await outbox.rows()} == {"sent"}
