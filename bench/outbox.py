"""Outbox benchmark (issue 18): messages through two dispatchers to a fake Bot Connector.

`make bench-outbox` (or `.venv/bin/python -m bench.outbox --help`). It needs PostgreSQL on
127.0.0.1:5432 letting `postgres` in (or `TEST_DATABASE_URL_PG`): only there do instances share
an outbox. It creates a throwaway database, queues the messages to many people (each with a
stored personal chat), runs two dispatchers on engines of their own (two app instances, in one
process) against the fake Bot Connector on loopback (bench/outbox_connector.py), and prints:

- the achieved rate, from the first to the last message the connector accepted, against the
  configured limit (goal: at least 95% of it);
- the most messages accepted in any one-second window, by the connector's clock (goal: never
  above the limit);
- duplicates and lost messages (goal: 0 and 0), and how the work split between the two.

Never part of `make test`: 10,000 messages at 50 a second take over three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import time as clock_time
from pathlib import Path

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.outbox_connector import ScriptedConnector
from bot.adapter import WegwijzerAdapter
from bot.connector import CachingAuthentication, ConnectorHttp
from bot.dispatcher import Dispatcher, DispatchLimits
from bot.sender import ProactiveSender
from bot.settings import Settings
from content.render import Renderer
from content.templates import load_templates
from services.conversations import ConversationRecord, ConversationScope
from services.outbox import MessageKind, Recipient, queue_message
from services.quiet_hours import QuietHours
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork

ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PER_COMMIT = 1_000
NEVER_QUIET = QuietHours(start=clock_time(0), end=clock_time(0), weekends=False)
PROBE = 'probe: "{{ n }}"\n'  # a text for the benchmark only, in a folder of its own


def _write_probe_messages(folder: Path) -> Path:
    for lang in ("nl", "en"):
        (folder / f"{lang}.yaml").write_text(PROBE, encoding="utf-8")
    return folder


async def _admin(statement: str) -> None:
    engine = create_async_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def _person(connector_url: str, owner: str) -> ConversationRecord:
    return ConversationRecord(
        scope=ConversationScope.PERSONAL,
        owner=owner,
        tenant_id="bench-tenant",
        channel_id="msteams",
        service_url=connector_url,
        conversation_id=f"a:{owner}",
        bot_id="28:bench",
        locale="nl-NL",
        reference={
            "bot": {"id": "28:bench"},
            "user": {"id": f"29:{owner}", "aadObjectId": owner},
            "conversation": {"id": f"a:{owner}"},
        },
    )


async def _queue(url: str, connector_url: str, messages: int, people: int) -> None:
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    try:
        async with UnitOfWork(session_factory) as uow:
            for n in range(people):
                await uow.conversations.upsert(_person(connector_url, f"p{n}"))
            await uow.commit()
        for start in range(0, messages, PER_COMMIT):
            async with UnitOfWork(session_factory) as uow:
                for n in range(start, min(messages, start + PER_COMMIT)):
                    await queue_message(
                        uow=uow,
                        to=Recipient.person(f"p{n % people}"),
                        kind=MessageKind.URGENT,
                        template="probe",
                        data={"n": n},
                        key=f"bench:{n}",
                    )
                await uow.commit()
    finally:
        await engine.dispose()


def _dispatcher(
    url: str, limits: DispatchLimits, renderer: Renderer, closers: list[ConnectorHttp]
) -> Dispatcher:
    engine = create_engine(url)
    http = ConnectorHttp(attempts=1, timeout=limits.send_timeout)
    closers.append(http)
    adapter = WegwijzerAdapter(
        CachingAuthentication(ConfigurationBotFrameworkAuthentication(Settings()), http)
    )
    sender = ProactiveSender(adapter, renderer, app_id="")
    return Dispatcher(
        engine, create_session_factory(engine), sender, limits=limits, quiet_hours=NEVER_QUIET
    )


def busiest_second(times: Sequence[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) starting at an arrival."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, start + 1.0) - i for i, start in enumerate(ordered)),
        default=0,
    )


async def run(messages: int, people: int, rate: float, latency: float = 0.0) -> dict[str, float]:
    name = f"wegwijzer_bench_outbox_{int(time.time())}_{secrets.token_hex(3)}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    connector = ScriptedConnector()
    if latency:  # each message takes 0 to `latency` s to arrive: arrivals bunch
        jitter = random.Random(18)
        connector.latency = lambda: jitter.uniform(0.0, latency)
    dispatchers: list[Dispatcher] = []
    closers: list[ConnectorHttp] = []
    try:
        await asyncio.to_thread(upgrade, url)
        await connector.start()
        await _queue(url, connector.url, messages, people)
        with tempfile.TemporaryDirectory() as folder:
            renderer = Renderer(load_templates(messages_dir=_write_probe_messages(Path(folder))))
        limits = DispatchLimits(rate_per_second=rate, poll_seconds=0.2)
        dispatchers = [_dispatcher(url, limits, renderer, closers) for _ in range(2)]
        started = time.monotonic()
        for dispatcher in dispatchers:
            dispatcher.start()
        while len({r.text for r in connector.received}) < messages:
            await asyncio.sleep(0.5)
            if time.monotonic() - started > messages / rate * 3 + 60:
                break  # something is stuck: report what arrived
        await asyncio.sleep(1.0)  # a duplicate would come now
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()
        for http in closers:
            await http.close()
        await connector.stop()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    times = [r.at for r in connector.received]
    texts = Counter(r.text for r in connector.received)
    span = max(times) - min(times) if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / span if span else 0.0
    return {
        "messages": messages,
        "people": people,
        "latency": latency,
        "limit": rate,
        "achieved": achieved,
        "achieved_share": achieved / rate,
        "busiest_second": busiest_second(times),
        "duplicates": sum(count - 1 for count in texts.values()),
        "lost": messages - len(texts),
        "sent_by_first": dispatchers[0].counts.outcomes["sent"],
        "sent_by_second": dispatchers[1].counts.outcomes["sent"],
    }


def report(result: dict[str, float]) -> str:
    rate = result["limit"]
    lines = [
        f"outbox benchmark: {result['messages']:.0f} messages to {result['people']:.0f} people, "
        "two dispatchers, one PostgreSQL outbox"
        + (f", 0 to {result['latency']:g} s to arrive" if result.get("latency") else ""),
        f"  achieved rate     {result['achieved']:8.2f} /s  = {result['achieved_share']:.1%} "
        f"of the limit {rate:g} /s  (goal: at least 95%)",
        f"  busiest second    {result['busiest_second']:8.0f}     (goal: at most {rate:g})",
        f"  duplicates        {result['duplicates']:8.0f}     (goal: 0)",
        f"  lost              {result['lost']:8.0f}     (goal: 0)",
        f"  sent by each      {result['sent_by_first']:.0f} / {result['sent_by_second']:.0f} "
        "(one instance holds the sending role)",
    ]
    met = (
        result["achieved_share"] >= 0.95
        and result["busiest_second"] <= rate
        and result["duplicates"] == 0
        and result["lost"] == 0
    )
    lines.append("  every goal met" if met else "  NOT every goal met")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=1_000, help="recipients (1 msg/s each)")
    parser.add_argument("--rate", type=float, default=50.0, help="the tenant limit, per second")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="each message takes 0 to this many s to arrive"
    )
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.messages, args.people, args.rate, args.latency))
    sys.stdout.write(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
