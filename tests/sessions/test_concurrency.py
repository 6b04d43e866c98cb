"""No overbooking, ever: many people at once, through two app instances on one PostgreSQL.

Each "instance" is its own engine (its own connection pool), as two `wegwijzer serve` processes
would have. Every sign-up, cancellation and promotion runs in its own unit of work, all started
together; the database must order them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.session_admin import create_session
from services.session_messages import Notice, SessionRules
from services.session_types import RegistrationStatus, SessionInfo, SessionStatus
from services.sessions import (
    SignUpOutcome,
    cancel_registration,
    confirm_offer,
    expire_offers,
    sign_up,
)
from storage.db import create_engine, create_session_factory
from storage.models import Registration
from storage.uow import UnitOfWork
from tests.sessions.conftest import OFFERS, details
from tests.sessions.fakes import NOW, OutboxReader, SessionsUoW, applicant

T = TypeVar("T")
PEOPLE = 30
RULES = SessionRules()


@pytest.fixture
async def instances(postgres_url: str) -> AsyncIterator[list[AsyncEngine]]:
    engines = [create_engine(postgres_url), create_engine(postgres_url)]
    yield engines
    for engine in engines:
        await engine.dispose()


def _uow(instances: list[AsyncEngine], n: int, log: object) -> UnitOfWork:
    return SessionsUoW(create_session_factory(instances[n % len(instances)]), log)


async def _at_once(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    start = asyncio.Event()

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        await start.wait()
        return await call()

    tasks = [asyncio.create_task(run(call)) for call in calls]
    await asyncio.sleep(0)
    start.set()
    return await asyncio.gather(*tasks)


async def _plan(instances: list[AsyncEngine], log: OutboxReader) -> SessionInfo:
    async with _uow(instances, 0, log) as uow:
        return await create_session(uow=uow, details=details(), offers_with_dates=OFFERS)


async def _sign_up_all(
    instances: list[AsyncEngine], log: OutboxReader, session: SessionInfo
) -> list[SignUpOutcome]:
    async def one(n: int) -> SignUpOutcome:
        async with _uow(instances, n, log) as uow:
            result = await sign_up(
                uow=uow, session_id=session.id, applicant=applicant(n), now=NOW, rules=RULES
            )
            return result.outcome

    return await _at_once([lambda n=n: one(n) for n in range(PEOPLE)])


async def _registrations(engine: AsyncEngine, session_id: int) -> list[Registration]:
    async with create_session_factory(engine)() as session:
        rows = await session.scalars(
            select(Registration)
            .where(Registration.session_id == session_id)
            .order_by(Registration.ticket)
        )
        return list(rows)


async def _places_taken(instances: list[AsyncEngine], session: SessionInfo) -> tuple[int, str]:
    async with _uow(instances, 0, None) as uow:
        stored = await uow.sessions.get(session.id)
    assert stored is not None
    return stored.places_taken, stored.status.value


async def test_thirty_at_once_on_two_instances_give_eight_places_and_22_waiting_in_order(
    instances: list[AsyncEngine],
) -> None:
    log = OutboxReader(create_session_factory(instances[0]))
    session = await _plan(instances, log)

    outcomes = await _sign_up_all(instances, log, session)

    assert outcomes.count(SignUpOutcome.CONFIRMED) == 8
    assert outcomes.count(SignUpOutcome.WAITING) == 22
    rows = await _registrations(instances[1], session.id)
    assert len({row.person for row in rows}) == len(rows) == PEOPLE
    # Arrival order: tickets 1..30 without gaps; the first eight to arrive have the places.
    assert [row.ticket for row in rows] == list(range(1, PEOPLE + 1))
    assert [row.status for row in rows] == ["confirmed"] * 8 + ["waiting"] * 22
    async with _uow(instances, 1, log) as uow:
        positions = [
            await uow.sessions.waiting_position(session_id=session.id, ticket=row.ticket)
            for row in rows[8:]
        ]
    assert positions == list(range(1, 23))
    assert await _places_taken(instances, session) == (8, SessionStatus.FULL.value)


async def test_one_person_twice_at_once_on_two_instances_gets_one_registration(
    instances: list[AsyncEngine],
) -> None:
    log = OutboxReader(create_session_factory(instances[0]))
    session = await _plan(instances, log)

    async def once(n: int) -> SignUpOutcome:
        async with _uow(instances, n, log) as uow:
            result = await sign_up(
                uow=uow, session_id=session.id, applicant=applicant("same"), now=NOW, rules=RULES
            )
            return result.outcome

    outcomes = await _at_once([lambda n=n: once(n) for n in range(6)])

    assert sorted(outcomes) == sorted([SignUpOutcome.CONFIRMED] + [SignUpOutcome.ALREADY] * 5)
    assert len(await _registrations(instances[0], session.id)) == 1
    assert await _places_taken(instances, session) == (1, SessionStatus.OPEN.value)


async def test_concurrent_cancellations_offer_each_freed_place_once_in_order(
    instances: list[AsyncEngine],
) -> None:
    log = OutboxReader(create_session_factory(instances[0]))
    session = await _plan(instances, log)
    await _sign_up_all(instances, log, session)
    confirmed = [row.person for row in (await _registrations(instances[0], session.id))[:8]]

    async def cancel(n: int, person: str) -> object:
        async with _uow(instances, n, log) as uow:
            return await cancel_registration(
                uow=uow, session_id=session.id, person=person, now=NOW, rules=RULES
            )

    # Each person cancels twice at once (two devices): the second finds nothing to cancel.
    calls = [lambda n=n, p=p: cancel(n, p) for n, p in enumerate(confirmed * 2)]
    results = await _at_once(calls)

    assert sum(result is not None for result in results) == 8
    rows = await _registrations(instances[1], session.id)
    offered = [row for row in rows if row.status == RegistrationStatus.OFFERED.value]
    assert [row.ticket for row in offered] == list(range(9, 17))
    notices = [q.recipient for q in await log.pending() if q.template == Notice.PLACE_OFFERED.value]
    assert sorted(notices) == sorted(row.person for row in offered)
    assert await _places_taken(instances, session) == (8, SessionStatus.FULL.value)


async def test_confirmations_then_expiries_at_once_on_two_instances_never_overbook(
    instances: list[AsyncEngine],
) -> None:
    log = OutboxReader(create_session_factory(instances[0]))
    session = await _plan(instances, log)
    await _sign_up_all(instances, log, session)
    by_ticket = {row.ticket: row.person for row in await _registrations(instances[0], session.id)}
    for ticket in range(1, 9):
        async with _uow(instances, ticket, log) as uow:
            await cancel_registration(
                uow=uow, session_id=session.id, person=by_ticket[ticket], now=NOW, rules=RULES
            )
    late = NOW + RULES.offer_window + timedelta(minutes=1)
    in_time = NOW + timedelta(hours=1)

    async def confirm(ticket: int) -> object:
        async with _uow(instances, ticket, log) as uow:
            return await confirm_offer(
                uow=uow, session_id=session.id, person=by_ticket[ticket], now=in_time, rules=RULES
            )

    async def expire(n: int) -> int:
        async with _uow(instances, n, log) as uow:
            return await expire_offers(uow=uow, now=late, rules=RULES)

    # Tickets 9..12 confirm in time; then every instance passes on the lapsed offers at once.
    confirmations = await _at_once([lambda t=t: confirm(t) for t in range(9, 13)])
    expiries = await _at_once([lambda n=n: expire(n) for n in range(4)])

    assert all(c is not None for c in confirmations)
    assert sum(expiries) == 4  # 13..16 let their offers lapse; each passed on exactly once
    rows = {row.ticket: row.status for row in await _registrations(instances[0], session.id)}
    assert [t for t, s in rows.items() if s == "confirmed"] == [9, 10, 11, 12]
    assert [t for t, s in rows.items() if s == "offered"] == [17, 18, 19, 20]
    assert [t for t, s in rows.items() if s == "waiting"] == list(range(21, 31))
    async with create_session_factory(instances[0])() as db:
        holding = await db.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.session_id == session.id,
                Registration.status.in_(["confirmed", "offered"]),
            )
        )
    assert holding == 8
    assert await _places_taken(instances, session) == (8, SessionStatus.FULL.value)


async def test_the_database_refuses_more_places_than_the_capacity(
    instances: list[AsyncEngine],
) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from storage.models import OfferSession

    log = OutboxReader(create_session_factory(instances[0]))
    session = await _plan(instances, log)

    async with create_session_factory(instances[0])() as db:
        with pytest.raises(IntegrityError):
            await db.execute(
                update(OfferSession).where(OfferSession.id == session.id).values(places_taken=9)
            )
