"""`wegwijzer outbox status | run --once | retry ID`: the outbox for operators.

What it prints is counts, ages, ids and reasons: never a message's content or a name.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.settings import Settings
from services.outbox import OutboxState, OutboxStatus
from storage.crypto import cipher_for
from storage.db import create_engine, create_session_factory
from storage.state_drivers import close_driver
from storage.types import utcnow
from storage.uow import UnitOfWork

STATES = [state.value for state in OutboxState]


def format_status(status: OutboxStatus) -> str:
    """The status as a few lines of text."""
    counts = ", ".join(f"{status.by_state.get(state, 0)} {state}" for state in STATES)
    lines = [f"outbox: {counts}"]
    if status.oldest_due_seconds is None:
        lines.append("oldest due message: none waiting")
    else:
        lines.append(f"oldest due message: waiting {status.oldest_due_seconds:.0f} s")
    if status.failures_by_reason:
        lines.append("failed or unreachable, by reason:")
        width = max(len(reason) for reason in status.failures_by_reason)
        for reason, count in sorted(status.failures_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {reason:<{width}}  {count}")
    if status.latest_failures:
        lines.append("latest, newest first ('wegwijzer outbox retry ID' queues one again):")
        for message_id, state, reason in status.latest_failures:
            lines.append(f"  {message_id:>8}  {state:<11}  {reason}")
    return "\n".join(lines) + "\n"


async def _with_database(settings: Settings, work: Callable[[UnitOfWork], Awaitable[int]]) -> int:
    engine = create_engine(settings.DATABASE_URL)
    try:
        async with UnitOfWork(create_session_factory(engine)) as uow:
            return await work(uow)
    finally:
        await close_driver(engine)
        await engine.dispose()


async def status(settings: Settings, out: TextIO = sys.stdout) -> int:
    async def show(uow: UnitOfWork) -> int:
        out.write(format_status(await uow.outbox.status(now=utcnow())))
        return 0

    return await _with_database(settings, show)


async def retry(settings: Settings, message_id: int, out: TextIO = sys.stdout) -> int:
    async def put_back(uow: UnitOfWork) -> int:
        if not await uow.outbox.retry(message_id, now=utcnow()):
            out.write(f"message {message_id}: not found, or not failed, unreachable or skipped\n")
            return 1
        await uow.commit()
        out.write(f"message {message_id}: queued again, due now\n")
        return 0

    return await _with_database(settings, put_back)


async def run_once(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Send what is due now, if no running instance is sending; the outcomes."""
    from bot.app import build_dispatcher
    from content.templates import load_templates

    cipher = cipher_for(settings.ENCRYPTION_KEYS, production=settings.is_production)
    engine = create_engine(settings.DATABASE_URL)
    dispatcher, http = build_dispatcher(settings, engine, load_templates(), cipher)
    try:
        if not await dispatcher.role.hold():
            out.write("another instance is sending now; it sends what is due\n")
            return 1
        finished = await dispatcher.run_once()
        counted = sorted(dispatcher.counts.outcomes.items())
        outcomes = ", ".join(f"{n} {what}" for what, n in counted)
        out.write(f"handled {finished} message(s){': ' + outcomes if outcomes else ''}\n")
        return 0
    finally:
        await dispatcher.role.release()
        await http.close()
        await close_driver(engine)
        await engine.dispose()


def main(settings: Settings, command: str, message_id: int | None = None) -> int:
    """Run one outbox command to completion."""
    if command == "status":
        return asyncio.run(status(settings))
    if command == "run":
        return asyncio.run(run_once(settings))
    if command == "retry" and message_id is not None:
        return asyncio.run(retry(settings, message_id))
    raise ValueError(f"unknown outbox command {command!r}")
