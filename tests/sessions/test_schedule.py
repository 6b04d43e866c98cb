"""Time-driven changes: offers pass on, sign-ups close at the deadline, an ended session is held.

Each runs as a periodic job in every instance; running it twice, or at once, changes nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs import register_jobs
from bot.periodic import PeriodicJobs
from bot.settings import Settings
from services.session_admin import ChangeOutcome, cancel_session, change_session, create_session
from services.session_messages import Notice, SessionRules
from services.session_schedule import close_signups, mark_held
from services.session_types import RegistrationStatus, SessionInfo, SessionStatus
from services.sessions import SignUpOutcome, cancel_registration, sign_up
from storage.uow import UnitOfWork
from tests.sessions.conftest import OFFERS, START, details
from tests.sessions.fakes import NOW, OutboxReader, applicant

UowFactory = Callable[[], UnitOfWork]
DEADLINE = START - timedelta(days=3)  # the planned session's
ENDED = START + timedelta(minutes=90)


async def status_of(uow_factory: UowFactory, session: SessionInfo) -> SessionStatus:
    async with uow_factory() as uow:
        stored = await uow.sessions.get(session.id)
    assert stored is not None
    return stored.status


async def test_sign_ups_close_at_the_deadline_once(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        assert await close_signups(uow=uow, now=DEADLINE - timedelta(minutes=1)) == 0
    assert await status_of(uow_factory, planned) is SessionStatus.OPEN

    async with uow_factory() as uow:
        assert await close_signups(uow=uow, now=DEADLINE) == 1
    async with uow_factory() as uow:
        assert await close_signups(uow=uow, now=DEADLINE + timedelta(hours=1)) == 0

    assert await status_of(uow_factory, planned) is SessionStatus.CLOSED
    async with uow_factory() as uow:
        result = await sign_up(
            uow=uow,
            session_id=planned.id,
            applicant=applicant(1),
            now=DEADLINE - timedelta(minutes=1),  # a turn that began just before: still closed
            rules=SessionRules(),
        )
    assert result.outcome is SignUpOutcome.CLOSED


async def test_a_session_without_deadline_closes_at_its_start_and_a_full_one_too(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        no_deadline = await create_session(
            uow=uow, details=details(signup_deadline=None, capacity=1), offers_with_dates=OFFERS
        )
    async with uow_factory() as uow:
        await sign_up(
            uow=uow,
            session_id=no_deadline.id,
            applicant=applicant(1),
            now=NOW,
            rules=SessionRules(),
        )
    assert await status_of(uow_factory, no_deadline) is SessionStatus.FULL

    async with uow_factory() as uow:
        assert await close_signups(uow=uow, now=START - timedelta(minutes=1)) == 0
    async with uow_factory() as uow:
        assert await close_signups(uow=uow, now=START) == 1
    assert await status_of(uow_factory, no_deadline) is SessionStatus.CLOSED


async def test_a_cancelled_session_stays_cancelled(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        await cancel_session(uow=uow, session_id=planned.id, now=NOW)

    async with uow_factory() as uow:
        assert await close_signups(uow=uow, now=ENDED) == 0
    async with uow_factory() as uow:
        assert await mark_held(uow=uow, now=ENDED + timedelta(days=1)) == 0

    assert await status_of(uow_factory, planned) is SessionStatus.CANCELLED


async def test_a_session_is_held_once_it_has_ended(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        await close_signups(uow=uow, now=DEADLINE)

    async with uow_factory() as uow:
        assert await mark_held(uow=uow, now=START + timedelta(minutes=30)) == 0  # still going
    assert await status_of(uow_factory, planned) is SessionStatus.CLOSED
    async with uow_factory() as uow:
        assert await mark_held(uow=uow, now=ENDED) == 1
    async with uow_factory() as uow:
        assert await mark_held(uow=uow, now=ENDED + timedelta(hours=1)) == 0

    assert await status_of(uow_factory, planned) is SessionStatus.HELD


async def test_closing_and_holding_do_not_move_the_calendar_sequence(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        await close_signups(uow=uow, now=DEADLINE)
        await mark_held(uow=uow, now=ENDED)

    async with uow_factory() as uow:
        stored = await uow.sessions.get(planned.id)
    assert stored is not None and stored.version == planned.version


async def test_a_later_deadline_opens_a_closed_session_again(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        await close_signups(uow=uow, now=DEADLINE)
    later = DEADLINE + timedelta(days=2)

    async with uow_factory() as uow:
        outcome, changed = await change_session(
            uow=uow,
            session_id=planned.id,
            details=details(signup_deadline=later),
            now=DEADLINE + timedelta(hours=1),
            rules=SessionRules(),
        )

    assert outcome is ChangeOutcome.CHANGED
    assert changed is not None and changed.status is SessionStatus.OPEN


async def test_the_offer_job_passes_an_expired_offer_to_the_next_on_the_list(
    uow_factory: UowFactory,
    planned: SessionInfo,
    outbox: OutboxReader,
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    rules = SessionRules()
    for n in range(10):
        async with uow_factory() as uow:
            await sign_up(
                uow=uow, session_id=planned.id, applicant=applicant(n), now=NOW, rules=rules
            )
    async with uow_factory() as uow:
        await cancel_registration(
            uow=uow, session_id=planned.id, person="aad-0", now=NOW, rules=rules
        )
    jobs = PeriodicJobs()
    register_jobs(
        jobs,
        settings=Settings(_env_file=None),  # type: ignore[call-arg]
        uow_factory=lambda: UnitOfWork(db_session_factory),
    )
    offers_job = next(job for job in jobs.jobs if job.name == "session-offers")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.jobs.utcnow", lambda: NOW + timedelta(hours=1))
        await offers_job.run()  # not expired yet: the offer stands
    assert await outbox.to("aad-9", Notice.PLACE_OFFERED.value) == []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.jobs.utcnow", lambda: NOW + rules.offer_window + timedelta(minutes=1))
        await offers_job.run()
        await offers_job.run()  # again: nothing more to pass on

    assert len(await outbox.to("aad-8", Notice.OFFER_EXPIRED.value)) == 1
    assert len(await outbox.to("aad-9", Notice.PLACE_OFFERED.value)) == 1
    async with uow_factory() as uow:
        offered = await uow.sessions.registration(session_id=planned.id, person="aad-9")
    assert offered is not None and offered.status is RegistrationStatus.OFFERED


async def test_the_status_job_closes_and_holds(
    uow_factory: UowFactory,
    planned: SessionInfo,
    db_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    jobs = PeriodicJobs()
    register_jobs(
        jobs,
        settings=Settings(_env_file=None),  # type: ignore[call-arg]
        uow_factory=lambda: UnitOfWork(db_session_factory),
    )
    status_job = next(job for job in jobs.jobs if job.name == "session-status")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.jobs.utcnow", lambda: DEADLINE + timedelta(minutes=1))
        await status_job.run()
    assert await status_of(uow_factory, planned) is SessionStatus.CLOSED
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bot.jobs.utcnow", lambda: ENDED + timedelta(minutes=1))
        await status_job.run()
    assert await status_of(uow_factory, planned) is SessionStatus.HELD


@pytest.mark.postgres
async def test_two_instances_closing_at_once_close_each_session_once(
    postgres_url: str,
) -> None:
    from storage.db import create_engine, create_session_factory

    engines = [create_engine(postgres_url) for _ in range(2)]
    try:
        factories = [create_session_factory(engine) for engine in engines]
        async with UnitOfWork(factories[0]) as uow:
            for day in range(5):
                await uow.sessions.add(details(starts_at=START + timedelta(days=day)))
            await uow.commit()

        async def close(factory: async_sessionmaker[AsyncSession]) -> int:
            async with UnitOfWork(factory) as uow:
                return await close_signups(uow=uow, now=START + timedelta(days=10))

        counts = await asyncio.gather(*(close(factories[n % 2]) for n in range(6)))

        assert sum(counts) == 5
    finally:
        for engine in engines:
            await engine.dispose()


async def test_who_still_waits_when_sign_ups_close_hears_it_once_and_leaves_the_list(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    for n in range(10):
        async with uow_factory() as uow:
            await sign_up(
                uow=uow,
                session_id=planned.id,
                applicant=applicant(n),
                now=NOW,
                rules=SessionRules(),
            )

    for _ in range(2):
        async with uow_factory() as uow:
            await close_signups(uow=uow, now=DEADLINE)

    assert [len(await outbox.to(f"aad-{n}", Notice.WAITING_CLOSED.value)) for n in (7, 8, 9)] == [
        0,
        1,
        1,
    ]
    (notice,) = await outbox.to("aad-9", Notice.WAITING_CLOSED.value)
    assert notice.kind == "notice"  # it can wait for daytime
    async with uow_factory() as uow:
        waiting = await uow.sessions.registration(session_id=planned.id, person="aad-9")
        placed = await uow.sessions.registration(session_id=planned.id, person="aad-7")
    assert waiting is not None and waiting.status is RegistrationStatus.CANCELLED
    assert placed is not None and placed.status is RegistrationStatus.CONFIRMED
