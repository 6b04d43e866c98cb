"""Several instances on one PostgreSQL outbox: every message sent exactly once.

Two dispatchers on engines of their own stand for two app instances; a third runs in a process
of its own and is killed (SIGKILL) in the middle of a batch.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bench.outbox_connector import ScriptedConnector
from bot.connector import ConnectorHttp
from bot.dispatcher import Dispatcher
from services.outbox import Recipient
from storage.db import create_engine, create_session_factory
from storage.state_drivers import close_driver
from storage.types import utcnow
from storage.uow import UnitOfWork
from tests.bot.outbox_fixtures import FAST, Outbox, make_dispatcher

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = [f"person-{n:02}" for n in range(10)]
PER_PERSON = 3
# Short leases so a takeover is quick; the margin only has one clock to cover here.
SHORT = replace(FAST, send_timeout=1.0, lease_seconds=3.0, lease_margin=0.5, rate_per_second=20)


@pytest.fixture
async def outbox(postgres_url: str) -> AsyncIterator[Outbox]:
    connector = ScriptedConnector()
    await connector.start()
    engine = create_engine(postgres_url)
    box = Outbox(engine, create_session_factory(engine), connector, [])
    for person in PEOPLE:
        await box.remember(person)
    for n in range(PER_PERSON):
        for person in PEOPLE:
            await box.queue(f"{person}-{n}", Recipient.person(person), n=n)
    yield box
    await box.close()
    await connector.stop()
    await close_driver(engine)
    await engine.dispose()


async def all_done(outbox: Outbox, seconds: float = 60.0) -> None:
    async with asyncio.timeout(seconds):
        while any(row.state == "pending" for row in await outbox.rows()):  # noqa: ASYNC110
            await asyncio.sleep(0.1)


def assert_each_sent_once_in_order(outbox: Outbox) -> None:
    texts = Counter((r.conversation_id, r.text) for r in outbox.connector.received)
    assert len(texts) == len(PEOPLE) * PER_PERSON
    assert set(texts.values()) == {1}, "a message arrived twice"
    for person in PEOPLE:
        received = [r.text for r in outbox.connector.to(f"a:{person}")]
        assert received == [f"nl {n}" for n in range(PER_PERSON)]


async def test_two_instances_send_every_message_exactly_once(
    outbox: Outbox, postgres_url: str
) -> None:
    engines = [create_engine(postgres_url) for _ in range(2)]
    closers: list[ConnectorHttp] = []
    dispatchers = [make_dispatcher(engine, closers, FAST) for engine in engines]
    try:
        for dispatcher in dispatchers:
            dispatcher.start()
        await all_done(outbox)
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()
        for http in closers:
            await http.close()
        for engine in engines:
            await engine.dispose()

    assert_each_sent_once_in_order(outbox)
    # One instance holds the sending role, so the tenant's rate holds for both together.
    sent = sorted(d.counts.outcomes["sent"] for d in dispatchers)
    assert sent == [0, len(PEOPLE) * PER_PERSON]
    assert {row.state for row in await outbox.rows()} == {"sent"}


async def test_abandoned_leases_are_taken_over_and_each_message_sent_once(
    outbox: Outbox,
) -> None:
    async with UnitOfWork(outbox.session_factory) as uow:  # an instance that died mid-batch
        abandoned = await uow.outbox.claim(
            owner="dead", now=utcnow(), lease=timedelta(seconds=1), limit=100
        )
        await uow.commit()
    dispatcher = outbox.dispatcher(SHORT)

    assert await dispatcher.run_once() == 0  # still leased by the dead one
    await asyncio.sleep(1.1)
    try:
        dispatcher.start()
        await all_done(outbox)
    finally:
        await dispatcher.stop()

    assert len(abandoned) == len(PEOPLE)
    assert_each_sent_once_in_order(outbox)


# One app instance's dispatcher in a process of its own, until it is killed.
INSTANCE = """
import asyncio, sys
from dataclasses import replace
from storage.db import create_engine
from tests.bot.outbox_fixtures import FAST, make_dispatcher

async def main() -> None:
    dispatcher = make_dispatcher(
        create_engine(sys.argv[1]), [],
        replace(FAST, send_timeout=1.0, lease_seconds=3.0, lease_margin=0.5, rate_per_second=5),
    )
    while not await dispatcher.role.hold():
        await asyncio.sleep(0.05)
    print("sending", flush=True)
    await dispatcher.run()

asyncio.run(main())
"""


async def test_a_dispatcher_killed_mid_batch_is_taken_over_and_each_message_sent_once(
    outbox: Outbox, postgres_url: str
) -> None:
    killed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", INSTANCE, postgres_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    survivor: Dispatcher | None = None
    try:
        assert killed.stdout is not None
        assert await asyncio.wait_for(killed.stdout.readline(), 30) == b"sending\n"
        survivor = outbox.dispatcher(SHORT)
        survivor.start()  # waits for the sending role
        async with asyncio.timeout(30):
            while len(outbox.connector.received) < 5:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        # From now on the connector holds every call: what the killed one sends is in flight.
        outbox.connector.delay = 60.0
        await asyncio.sleep(0.6)  # less than a send's timeout: the calls are still waiting
        in_flight = outbox.connector.arrived - len(outbox.connector.received)
        killed.send_signal(signal.SIGKILL)
        await killed.wait()
        outbox.connector.delay = 0.0

        await all_done(outbox)
    finally:
        if killed.returncode is None:
            killed.kill()
            await killed.wait()
        if survivor is not None:
            await survivor.stop()

    assert survivor.counts.outcomes["sent"] >= len(PEOPLE) * PER_PERSON - 5
    assert in_flight > 0, "the killed dispatcher had nothing on its way"
    assert_each_sent_once_in_order(outbox)
