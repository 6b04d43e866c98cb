"""Signing up, the waiting list, cancelling and offered places, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from services.session_admin import create_session
from services.session_messages import Notice, SessionRules
from services.session_types import (
    AMSTERDAM,
    Audience,
    RegistrationStatus,
    SessionInfo,
    SessionStatus,
)
from services.sessions import (
    SignUpOutcome,
    cancel_registration,
    confirm_offer,
    expire_offers,
    my_registrations,
    open_sessions,
    sign_up,
)
from storage.uow import UnitOfWork
from tests.sessions.conftest import OFFERS, START, details
from tests.sessions.fakes import NOW, OutboxReader, applicant

UowFactory = Callable[[], UnitOfWork]


async def _sign_up(uow_factory: UowFactory, session: SessionInfo, n: int | str, **kw: object):  # type: ignore[no-untyped-def]
    async with uow_factory() as uow:
        return await sign_up(
            uow=uow,
            session_id=session.id,
            applicant=applicant(n, **kw),  # type: ignore[arg-type]
            now=NOW,
            rules=SessionRules(),
        )


async def test_eight_places_then_the_ninth_signup_goes_to_the_waiting_list(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    results = [await _sign_up(uow_factory, planned, n) for n in range(10)]

    assert [r.outcome for r in results] == [SignUpOutcome.CONFIRMED] * 8 + [
        SignUpOutcome.WAITING
    ] * 2
    assert [r.position for r in results[8:]] == [1, 2]
    assert results[7].session.status is SessionStatus.FULL
    assert results[7].session.places_left == 0


async def test_one_registration_per_person_per_session(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    first = await _sign_up(uow_factory, planned, 1)
    again = await _sign_up(uow_factory, planned, 1)

    assert again.outcome is SignUpOutcome.ALREADY
    assert again.registration.id == first.registration.id
    assert again.session.places_taken == 1


async def test_managers_only_session_refuses_another_role_and_names_open_sessions(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        open_one = await create_session(
            uow=uow,
            details=details(starts_at=START + timedelta(days=7), audience=Audience.EVERYONE),
            offers_with_dates=OFFERS,
        )

    result = await _sign_up(uow_factory, planned, "employee", manager=False)

    assert result.outcome is SignUpOutcome.NOT_FOR_ROLE
    assert [s.id for s in result.open_to_you] == [open_one.id]
    async with uow_factory() as uow:
        assert await uow.sessions.registration(session_id=planned.id, person="aad-employee") is None


async def test_without_consent_nothing_is_stored(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    result = await _sign_up(uow_factory, planned, 1, consent=False)

    assert result.outcome is SignUpOutcome.NO_CONSENT
    async with uow_factory() as uow:
        assert await uow.sessions.registration(session_id=planned.id, person="aad-1") is None


async def test_no_signups_after_the_deadline(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        session = await create_session(
            uow=uow,
            details=details(signup_deadline=NOW - timedelta(minutes=1)),
            offers_with_dates=OFFERS,
        )

    assert (await _sign_up(uow_factory, session, 1)).outcome is SignUpOutcome.CLOSED


async def test_a_confirmed_place_plans_two_reminders_and_the_evaluation(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    await _sign_up(uow_factory, planned, 1)

    reminders = await outbox.to("aad-1", Notice.REMINDER.value)
    assert [q.due_at for q in reminders] == [
        planned.starts_at - timedelta(days=7),
        planned.starts_at - timedelta(days=1),
    ]
    assert all(not q.urgent and q.kind == "reminder" for q in reminders)
    (evaluation,) = await outbox.to("aad-1", Notice.EVALUATION.value)
    assert evaluation.due_at.astimezone(AMSTERDAM).isoformat() == "2026-10-18T10:00:00+02:00"


async def test_a_waiting_list_spot_plans_no_reminders(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    for n in range(9):
        await _sign_up(uow_factory, planned, n)

    assert await outbox.to("aad-8") == []


async def test_cancelling_offers_the_place_to_the_first_waiting_at_once(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    for n in range(10):
        await _sign_up(uow_factory, planned, n)

    async with uow_factory() as uow:
        cancelled = await cancel_registration(
            uow=uow, session_id=planned.id, person="aad-3", now=NOW, rules=SessionRules()
        )

    assert cancelled is not None and cancelled.status is RegistrationStatus.CANCELLED
    assert await outbox.to("aad-3", Notice.REMINDER.value) == []
    (offer,) = await outbox.to("aad-8", Notice.PLACE_OFFERED.value)
    assert offer.urgent and offer.due_at == NOW
    async with uow_factory() as uow:
        offered = await uow.sessions.registration(session_id=planned.id, person="aad-8")
        assert offered.status is RegistrationStatus.OFFERED
        assert offered.offer_expires_at == NOW + timedelta(hours=24)
        assert (await uow.sessions.get(planned.id)).places_taken == 8
        assert await uow.sessions.waiting_position(session_id=planned.id, ticket=10) == 1


async def test_confirming_an_offer_gives_the_place_and_its_reminders(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    for n in range(9):
        await _sign_up(uow_factory, planned, n)
    async with uow_factory() as uow:
        await cancel_registration(
            uow=uow, session_id=planned.id, person="aad-0", now=NOW, rules=SessionRules()
        )

    async with uow_factory() as uow:
        confirmed = await confirm_offer(
            uow=uow, session_id=planned.id, person="aad-8", now=NOW, rules=SessionRules()
        )

    assert confirmed is not None and confirmed.status is RegistrationStatus.CONFIRMED
    assert len(await outbox.to("aad-8", Notice.REMINDER.value)) == 2


async def test_an_offer_not_confirmed_in_time_passes_to_the_next(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    for n in range(10):
        await _sign_up(uow_factory, planned, n)
    async with uow_factory() as uow:
        await cancel_registration(
            uow=uow, session_id=planned.id, person="aad-0", now=NOW, rules=SessionRules()
        )
    later = NOW + timedelta(hours=25)

    async with uow_factory() as uow:
        assert await expire_offers(uow=uow, now=later, rules=SessionRules()) == 1
    async with uow_factory() as uow:
        assert (
            await confirm_offer(
                uow=uow, session_id=planned.id, person="aad-8", now=later, rules=SessionRules()
            )
            is None
        )

    assert await outbox.to("aad-8", Notice.OFFER_EXPIRED.value)
    assert await outbox.to("aad-9", Notice.PLACE_OFFERED.value)
    async with uow_factory() as uow:
        assert (await uow.sessions.get(planned.id)).places_taken == 8


async def test_cancelling_with_nobody_waiting_frees_the_place(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    for n in range(8):
        await _sign_up(uow_factory, planned, n)

    async with uow_factory() as uow:
        await cancel_registration(
            uow=uow, session_id=planned.id, person="aad-0", now=NOW, rules=SessionRules()
        )

    async with uow_factory() as uow:
        session = await uow.sessions.get(planned.id)
    assert (session.places_taken, session.status) == (7, SessionStatus.OPEN)
    again = await _sign_up(uow_factory, planned, 0)
    assert again.outcome is SignUpOutcome.CONFIRMED


async def test_my_registrations_lists_places_and_waiting_positions(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    for n in range(10):
        await _sign_up(uow_factory, planned, n)

    async with uow_factory() as uow:
        mine = await my_registrations(uow=uow, person="aad-9", now=NOW)
        theirs = await my_registrations(uow=uow, person="aad-1", now=NOW)

    assert [(s.id, r.status, p) for s, r, p in mine] == [
        (planned.id, RegistrationStatus.WAITING, 2)
    ]
    assert [(r.status, p) for _, r, p in theirs] == [(RegistrationStatus.CONFIRMED, None)]


async def test_open_sessions_shows_managers_only_sessions_to_managers_only(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        for_managers = await open_sessions(uow=uow, now=NOW, is_manager=True)
        for_others = await open_sessions(uow=uow, now=NOW, is_manager=False)

    assert [s.id for s in for_managers] == [planned.id]
    assert for_others == []


async def test_a_place_cannot_be_cancelled_once_the_session_has_begun(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    # A forged press after the session took the participant off the list the Bureau keeps
    # and cancelled their evaluation question.
    for n in range(9):
        await _sign_up(uow_factory, planned, n)

    async with uow_factory() as uow:
        cancelled = await cancel_registration(
            uow=uow,
            session_id=planned.id,
            person="aad-0",
            now=START + timedelta(hours=2),
            rules=SessionRules(),
        )

    assert cancelled is None
    async with uow_factory() as uow:
        kept = await uow.sessions.registration(session_id=planned.id, person="aad-0")
        session = await uow.sessions.get(planned.id)
    assert kept is not None and kept.status is RegistrationStatus.CONFIRMED
    assert session is not None and session.places_taken == 8
