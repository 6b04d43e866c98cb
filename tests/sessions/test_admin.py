"""The Bureau's changes reach everyone signed up; lists, CSV and anonymous evaluations."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.session_admin import (
    ChangeOutcome,
    cancel_session,
    change_session,
    create_session,
    participants_csv,
    session_lists,
)
from services.session_messages import Notice, SessionRules, answer_evaluation
from services.session_types import RegistrationStatus, SessionInfo, SessionStatus
from services.sessions import SignUpOutcome, sign_up
from storage.models import SessionEvaluation
from storage.uow import UnitOfWork
from tests.sessions.conftest import OFFERS, START, details
from tests.sessions.fakes import NOW, OutboxReader, applicant

UowFactory = Callable[[], UnitOfWork]
AFTER = START + timedelta(days=1)


async def _fill(uow_factory: UowFactory, session: SessionInfo, count: int) -> None:
    for n in range(count):
        async with uow_factory() as uow:
            await sign_up(
                uow=uow,
                session_id=session.id,
                applicant=applicant(n),
                now=NOW,
                rules=SessionRules(),
            )


async def test_creating_a_session_for_an_offer_without_dates_is_refused(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="has no dates"):
            await create_session(
                uow=uow, details=details(offer="toolkit-id"), offers_with_dates=OFFERS
            )


async def test_moving_a_session_tells_everyone_and_replans_reminders(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    await _fill(uow_factory, planned, 9)
    moved = START + timedelta(days=7)

    async with uow_factory() as uow:
        outcome, changed = await change_session(
            uow=uow,
            session_id=planned.id,
            details=details(starts_at=moved, signup_deadline=None),
            now=NOW,
            rules=SessionRules(),
        )

    assert outcome is ChangeOutcome.CHANGED and changed is not None
    assert changed.version == planned.version + 1
    told = {q.recipient for q in await outbox.pending() if q.template == Notice.CHANGED.value}
    assert told == {f"aad-{n}" for n in range(9)}
    reminders = await outbox.to("aad-0", Notice.REMINDER.value)
    assert [q.due_at for q in reminders] == [moved - timedelta(days=7), moved - timedelta(days=1)]
    assert await outbox.to("aad-8", Notice.REMINDER.value) == []  # still waiting


async def test_a_new_theme_wording_is_not_announced(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    await _fill(uow_factory, planned, 2)

    async with uow_factory() as uow:
        _, changed = await change_session(
            uow=uow,
            session_id=planned.id,
            details=details(theme="Nieuwe woorden"),
            now=NOW,
            rules=SessionRules(),
        )

    assert changed is not None and (changed.theme, changed.version) == ("Nieuwe woorden", 0)
    assert [q for q in await outbox.pending() if q.template == Notice.CHANGED.value] == []


async def test_more_places_are_offered_to_the_waiting_list_in_order(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    await _fill(uow_factory, planned, 11)

    async with uow_factory() as uow:
        _, changed = await change_session(
            uow=uow,
            session_id=planned.id,
            details=details(capacity=10),
            now=NOW,
            rules=SessionRules(),
        )

    assert changed is not None and (changed.places_taken, changed.status) == (
        10,
        SessionStatus.FULL,
    )
    offered = [
        q.recipient for q in await outbox.pending() if q.template == Notice.PLACE_OFFERED.value
    ]
    assert offered == ["aad-8", "aad-9"]


async def test_fewer_places_than_people_who_have_one_is_refused(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    await _fill(uow_factory, planned, 5)

    async with uow_factory() as uow:
        outcome, _ = await change_session(
            uow=uow,
            session_id=planned.id,
            details=details(capacity=4),
            now=NOW,
            rules=SessionRules(),
        )

    assert outcome is ChangeOutcome.CAPACITY_TOO_LOW
    async with uow_factory() as uow:
        assert (await uow.sessions.get(planned.id)).capacity == 8


async def test_cancelling_a_session_tells_everyone_and_clears_their_reminders(
    uow_factory: UowFactory, planned: SessionInfo, outbox: OutboxReader
) -> None:
    await _fill(uow_factory, planned, 9)

    async with uow_factory() as uow:
        cancelled = await cancel_session(uow=uow, session_id=planned.id, now=NOW)

    assert cancelled is not None and cancelled.status is SessionStatus.CANCELLED
    assert [q for q in await outbox.pending() if q.template == Notice.REMINDER.value] == []
    assert [q for q in await outbox.pending() if q.template == Notice.EVALUATION.value] == []
    told = {q.recipient for q in await outbox.pending() if q.template == Notice.CANCELLED.value}
    assert told == {f"aad-{n}" for n in range(9)}
    async with uow_factory() as uow:
        result = await sign_up(
            uow=uow, session_id=planned.id, applicant=applicant(99), now=NOW, rules=SessionRules()
        )
    assert result.outcome is SignUpOutcome.CLOSED


async def test_lists_give_participants_and_waiting_in_order_and_csv_is_safe(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    await _fill(uow_factory, planned, 10)

    async with uow_factory() as uow:
        lists = await session_lists(uow=uow, session_id=planned.id)

    assert lists is not None
    assert [r.person for r in lists.participants] == [f"aad-{n}" for n in range(8)]
    assert [r.person for r in lists.waiting] == ["aad-8", "aad-9"]
    rows = list(
        csv.reader(
            io.StringIO(
                participants_csv(lists.participants, ["Naam", "Functie", "Directie"]).decode(
                    "utf-8-sig"
                )
            ),
            delimiter=";",
        )
    )
    assert rows[0] == ["Naam", "Functie", "Directie"]
    assert rows[1] == ["Naam 0", "Teamleider", "Belastingen"]
    assert len(rows) == 9


def test_csv_cells_never_start_a_formula() -> None:
    from services.session_types import RegistrationInfo

    registration = RegistrationInfo(
        id=1,
        session_id=1,
        person="p",
        name="=cmd()",
        function="+1",
        directorate="@x",
        status=RegistrationStatus.CONFIRMED,
        ticket=1,
    )

    text = participants_csv([registration], ["a", "b", "c"]).decode("utf-8-sig")

    assert text.splitlines()[1] == "'=cmd();'+1;'@x"


async def test_evaluation_is_stored_without_identity_and_only_once(
    uow_factory: UowFactory, planned: SessionInfo, db_engine: AsyncEngine
) -> None:
    await _fill(uow_factory, planned, 1)

    async with uow_factory() as uow:
        first = await answer_evaluation(
            uow=uow,
            session_id=planned.id,
            person="aad-0",
            rating=4,
            remark="  Fijn gesprek ",
            now=AFTER,
        )
    async with uow_factory() as uow:
        second = await answer_evaluation(
            uow=uow, session_id=planned.id, person="aad-0", rating=1, remark=None, now=AFTER
        )
    async with uow_factory() as uow:
        stranger = await answer_evaluation(
            uow=uow, session_id=planned.id, person="aad-nobody", rating=1, remark=None, now=AFTER
        )

    assert (first, second, stranger) == (True, False, False)
    async with db_engine.connect() as connection:
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("session_evaluations")}
        )
        rows = (
            await connection.execute(select(SessionEvaluation.rating, SessionEvaluation.remark))
        ).all()
    assert columns == {"id", "session_id", "rating", "remark"}
    assert [tuple(r) for r in rows] == [(4, "Fijn gesprek")]


async def test_no_evaluation_before_the_session_has_ended(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    await _fill(uow_factory, planned, 1)

    async with uow_factory() as uow:
        stored = await answer_evaluation(
            uow=uow, session_id=planned.id, person="aad-0", rating=5, remark=None, now=START
        )

    assert stored is False


async def test_no_evaluation_of_a_session_that_was_called_off(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    # Nobody is asked (its messages are cancelled), but a forged press still counted a rating.
    await _fill(uow_factory, planned, 1)
    async with uow_factory() as uow:
        await cancel_session(uow=uow, session_id=planned.id, now=NOW)

    async with uow_factory() as uow:
        stored = await answer_evaluation(
            uow=uow, session_id=planned.id, person="aad-0", rating=1, remark=None, now=AFTER
        )

    assert stored is False


async def test_a_rating_outside_one_to_five_is_refused(
    uow_factory: UowFactory, planned: SessionInfo
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError):
            await answer_evaluation(
                uow=uow, session_id=planned.id, person="x", rating=6, remark=None, now=AFTER
            )
