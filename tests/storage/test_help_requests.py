"""Help requests in SQL through the services: encrypted text, one claim, audit, SLA reminders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from content.schema import Role
from content.triage_rules import Priority, Urgency
from services import help_request_actions as actions
from services.help_desk import BureauChannel
from services.help_request_actions import HelpRequestRefused, Refusal
from services.help_requests import (
    AuditAction,
    ContactPreference,
    HelpRequest,
    HelpRequestUnitOfWork,
    MessageKind,
    NewHelpRequest,
    Person,
    RequestKind,
    SlaPeriod,
    Status,
    Suggestion,
)
from services.sla import SlaSettings, remind_overdue
from storage.crypto import TextCipher, generate_key
from storage.db import create_engine, create_session_factory
from storage.models import HelpRequestAuditRecord, HelpRequestMessageRecord, HelpRequestRecord
from storage.state_drivers import close_driver
from storage.uow import UnitOfWork

SECRET = "Mijn medewerker wordt gediscrimineerd door een bewoner"
REQUESTER = Person("aad-requester", "Sanne de Vries")
ANNA = Person("aad-anna", "Anna Bureau")
BRAM = Person("aad-bram", "Bram Bureau")
# A Monday morning, so working days are easy to count.
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def cipher() -> TextCipher:
    return TextCipher([generate_key()])


@pytest.fixture
def new_uow(db_session_factory: async_sessionmaker[AsyncSession], cipher: TextCipher) -> UowFactory:
    return lambda: UnitOfWork(db_session_factory, cipher=cipher)


def new_request(**changes: Any) -> NewHelpRequest:
    values: dict[str, Any] = {
        "kind": RequestKind.QUESTION,
        "requester": REQUESTER,
        "directorate": "Wonen",
        "role": Role.TEAMMANAGER,
        "urgency": Urgency.DEZE_WEEK,
        "contact": ContactPreference.TEAMS_CHAT,
        "text": SECRET,
        "theme": "sociale-veiligheid",
        "priority": Priority.SPOED,
        "signals": ("discriminatie",),
        "suggestions": (Suggestion("vertrouwenspersoon", (("need", "dilemma"),)),),
    }
    return NewHelpRequest(**{**values, **changes})


async def submitted(new_uow: UowFactory, **changes: Any) -> HelpRequest:
    async with new_uow() as uow:
        return await actions.submit(uow=uow, request=new_request(**changes), now=MONDAY)


async def test_a_submitted_request_reads_back_whole_but_its_text_is_stored_encrypted(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    stored = await submitted(new_uow, details={"topic": "polarisatie"}, team_size=12)

    async with new_uow() as uow:
        again = await uow.help_requests.get(stored.id)
    assert again == stored
    assert (again.status, again.text, again.requester, again.team_size) == (
        Status.NEW,
        SECRET,
        REQUESTER,
        12,
    )
    assert again.suggestions == (Suggestion("vertrouwenspersoon", (("need", "dilemma"),)),)
    async with db_session_factory() as session:
        row = await session.scalar(select(HelpRequestRecord))
    assert row is not None
    assert "gediscrimineerd" not in row.payload
    assert "Sanne" not in row.payload
    assert "polarisatie" not in row.payload


async def test_claiming_puts_a_new_request_in_progress_and_a_second_claim_learns_who_has_it(
    new_uow: UowFactory,
) -> None:
    request = await submitted(new_uow)

    async with new_uow() as uow:
        first = await actions.claim(uow=uow, request_id=request.id, by=ANNA, now=MONDAY)
    async with new_uow() as uow:
        second = await actions.claim(uow=uow, request_id=request.id, by=BRAM, now=MONDAY)

    assert first.won and first.request.status is Status.IN_PROGRESS
    assert first.request.assigned_to == ANNA
    assert not second.won
    assert second.holder == ANNA


class _ClaimAtTheSameMoment:
    """A repository whose claims all wait until every claimant has read the request."""

    def __init__(self, inner: Any, barrier: asyncio.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def claim(self, request_id: int, **kwargs: Any) -> bool:
        await self._barrier.wait()
        result: bool = await self._inner.claim(request_id, **kwargs)
        return result


class _BarrierUow:
    def __init__(self, inner: UnitOfWork, barrier: asyncio.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    @property
    def help_requests(self) -> Any:
        return _ClaimAtTheSameMoment(self._inner.help_requests, self._barrier)

    @property
    def outbox(self) -> Any:
        return self._inner.outbox

    async def commit(self) -> None:
        await self._inner.commit()


@pytest.fixture
async def pg_uow(postgres_url: str, cipher: TextCipher) -> AsyncIterator[UowFactory]:
    engine: AsyncEngine = create_engine(postgres_url)
    factory = create_session_factory(engine)
    yield lambda: UnitOfWork(factory, cipher=cipher)
    await close_driver(engine)
    await engine.dispose()


async def test_concurrent_claims_on_postgresql_let_exactly_one_win(pg_uow: UowFactory) -> None:
    request = await submitted(pg_uow)
    staff = [Person(f"aad-staff-{n}", f"Staff {n}") for n in range(6)]
    barrier = asyncio.Barrier(len(staff))

    async def press(person: Person) -> actions.ClaimOutcome:
        async with pg_uow() as uow:
            # Every claimant has seen the request unclaimed before anyone writes: only the
            # database can tell them apart.
            racing: HelpRequestUnitOfWork = _BarrierUow(uow, barrier)  # type: ignore[assignment]
            return await actions.claim(uow=racing, request_id=request.id, by=person, now=MONDAY)

    outcomes = await asyncio.gather(*(press(person) for person in staff))

    winners = [outcome for outcome in outcomes if outcome.won]
    assert len(winners) == 1
    winner = winners[0].request.claimed_by
    assert all(outcome.holder == winner for outcome in outcomes)
    async with pg_uow() as uow:
        audit = await uow.help_requests.audit(request.id)
    assert [entry.action for entry in audit].count(AuditAction.CLAIMED) == 1


async def test_every_change_is_audited_with_who_when_and_from_what_to_what_but_no_text(
    new_uow: UowFactory, db_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    request = await submitted(new_uow)
    later = MONDAY + timedelta(hours=1)
    async with new_uow() as uow:
        await actions.claim(uow=uow, request_id=request.id, by=ANNA, now=later)
        await actions.assign(uow=uow, request_id=request.id, actor=ANNA, to=BRAM, now=later)
        await actions.reply(
            uow=uow, request_id=request.id, actor=BRAM, text="Wil je me bellen?", now=later
        )
        await actions.note(
            uow=uow, request_id=request.id, actor=BRAM, text="Intern: vertrouwenspersoon", now=later
        )
        await actions.change_status(
            uow=uow, request_id=request.id, actor=BRAM, to=Status.CLOSED, now=later
        )
        trail = await uow.help_requests.audit(request.id)

    assert [(e.actor_id, e.action, e.from_value, e.to_value) for e in trail] == [
        (REQUESTER.id, AuditAction.CREATED, None, "new"),
        (ANNA.id, AuditAction.CLAIMED, None, ANNA.id),
        (ANNA.id, AuditAction.STATUS, "new", "in_progress"),
        (ANNA.id, AuditAction.ASSIGNED, ANNA.id, BRAM.id),
        (BRAM.id, AuditAction.REPLIED, None, None),
        (BRAM.id, AuditAction.NOTED, None, None),
        (BRAM.id, AuditAction.STATUS, "in_progress", "closed"),
    ]
    assert all(entry.at in (MONDAY, later) for entry in trail)
    async with db_session_factory() as session:
        audit_rows = list(await session.scalars(select(HelpRequestAuditRecord)))
        bodies = list(await session.scalars(select(HelpRequestMessageRecord.body)))
    stored = " ".join(f"{r.actor_id} {r.action} {r.from_value} {r.to_value}" for r in audit_rows)
    assert "bellen" not in stored and "vertrouwenspersoon" not in stored
    assert not any("bellen" in body or "Intern" in body for body in bodies)


async def test_the_requester_sees_replies_and_answers_but_the_messages_keep_their_kind(
    new_uow: UowFactory,
) -> None:
    request = await submitted(new_uow)
    async with new_uow() as uow:
        await actions.reply(uow=uow, request_id=request.id, actor=ANNA, text="Hoi!", now=MONDAY)
        await actions.answer(
            uow=uow, request_id=request.id, requester=REQUESTER, text="Dank je", now=MONDAY
        )
        messages = await uow.help_requests.messages(request.id)
    assert [(m.kind, m.author, m.body) for m in messages] == [
        (MessageKind.REPLY, ANNA, "Hoi!"),
        (MessageKind.ANSWER, None, "Dank je"),
    ]


async def test_replies_notes_and_answers_are_stored_without_control_characters(
    new_uow: UowFactory,
) -> None:
    # PostgreSQL refuses a NUL byte; a bidi override makes a text read otherwise than stored.
    request = await submitted(new_uow)
    async with new_uow() as uow:
        await actions.reply(
            uow=uow,
            request_id=request.id,
            actor=ANNA,
            text="Hoi\x00 daar\nTot \u202emorgen",
            now=MONDAY,
        )
        await actions.note(
            uow=uow, request_id=request.id, actor=ANNA, text="\x1b[31mIntern", now=MONDAY
        )
        await actions.answer(
            uow=uow, request_id=request.id, requester=REQUESTER, text="Dank\u2066 je", now=MONDAY
        )
        messages = await uow.help_requests.messages(request.id)
    assert [m.body for m in messages] == ["Hoi daar\nTot morgen", "[31mIntern", "Dank je"]


@pytest.mark.parametrize("text", ["\x00\x00", "\u202e \n "])
async def test_a_reply_of_control_characters_only_is_refused_as_empty(
    new_uow: UowFactory, text: str
) -> None:
    request = await submitted(new_uow)
    async with new_uow() as uow:
        with pytest.raises(HelpRequestRefused) as refused:
            await actions.reply(uow=uow, request_id=request.id, actor=ANNA, text=text, now=MONDAY)
        assert refused.value.reason is Refusal.EMPTY
        assert await uow.help_requests.messages(request.id) == []


async def test_a_requester_can_withdraw_only_their_own_open_request(new_uow: UowFactory) -> None:
    request = await submitted(new_uow)
    stranger = Person("aad-stranger", "Iemand anders")

    async with new_uow() as uow:
        with pytest.raises(HelpRequestRefused) as refused:
            await actions.withdraw(uow=uow, request_id=request.id, requester=stranger, now=MONDAY)
        assert refused.value.reason is Refusal.NOT_FOUND
        withdrawn = await actions.withdraw(
            uow=uow, request_id=request.id, requester=REQUESTER, now=MONDAY
        )
        assert (withdrawn.status, withdrawn.closed_at) == (Status.WITHDRAWN, MONDAY)
        with pytest.raises(HelpRequestRefused) as again:
            await actions.withdraw(uow=uow, request_id=request.id, requester=REQUESTER, now=MONDAY)
        assert again.value.reason is Refusal.NOT_OPEN
        with pytest.raises(HelpRequestRefused) as claim:
            await actions.claim(uow=uow, request_id=request.id, by=ANNA, now=MONDAY)
        assert claim.value.reason is Refusal.NOT_OPEN


async def test_a_status_change_that_is_not_allowed_changes_nothing(new_uow: UowFactory) -> None:
    request = await submitted(new_uow)
    async with new_uow() as uow:
        with pytest.raises(HelpRequestRefused) as refused:
            await actions.change_status(
                uow=uow,
                request_id=request.id,
                actor=ANNA,
                to=Status.WAITING_FOR_REQUESTER,
                now=MONDAY,
            )
        assert refused.value.reason is Refusal.NOT_ALLOWED
        again = await uow.help_requests.get(request.id)
        assert again is not None and again.status is Status.NEW
        assert len(await uow.help_requests.audit(request.id)) == 1


@pytest.mark.parametrize(
    ("text", "reason"), [("   ", Refusal.EMPTY), ("x" * 2001, Refusal.TOO_LONG)]
)
async def test_an_empty_or_too_long_reply_is_refused_and_stores_nothing(
    new_uow: UowFactory, text: str, reason: Refusal
) -> None:
    request = await submitted(new_uow)
    async with new_uow() as uow:
        with pytest.raises(HelpRequestRefused) as refused:
            await actions.reply(uow=uow, request_id=request.id, actor=ANNA, text=text, now=MONDAY)
        assert refused.value.reason is reason
        assert await uow.help_requests.messages(request.id) == []


async def test_my_requests_lists_only_the_requesters_own_newest_first(new_uow: UowFactory) -> None:
    first = await submitted(new_uow)
    await submitted(new_uow, requester=Person("aad-other", "Ander"))
    async with new_uow() as uow:
        second = await actions.submit(
            uow=uow, request=new_request(), now=MONDAY + timedelta(minutes=5)
        )
        mine = await actions.my_requests(uow=uow, requester_id=REQUESTER.id)
    assert [r.id for r in mine] == [second.id, first.id]


async def test_an_unclaimed_request_is_raised_once_per_period_after_two_working_days(
    new_uow: UowFactory,
) -> None:
    request = await submitted(new_uow)  # Monday 09:00
    raised: list[tuple[int, SlaPeriod]] = []

    async def queue(uow: HelpRequestUnitOfWork, req: HelpRequest, period: SlaPeriod) -> None:
        raised.append((req.id, period))

    async def plan(at: datetime) -> list[tuple[int, SlaPeriod]]:
        async with new_uow() as uow:
            return await remind_overdue(uow=uow, sla=SlaSettings(), now=at, queue=queue)

    assert await plan(MONDAY + timedelta(days=2, hours=-1)) == []  # Wednesday 08:00
    assert await plan(MONDAY + timedelta(days=2)) == [(request.id, SlaPeriod.CLAIM)]
    assert await plan(MONDAY + timedelta(days=2, hours=5)) == []  # once per period
    # Two working days later (Friday), still unclaimed: raised again.
    assert await plan(MONDAY + timedelta(days=4)) == [(request.id, SlaPeriod.CLAIM)]
    async with new_uow() as uow:
        await actions.claim(uow=uow, request_id=request.id, by=ANNA, now=MONDAY)
    # Claimed: no more claim reminders; ten working days after creation, a close reminder.
    assert await plan(MONDAY + timedelta(days=13)) == []
    assert await plan(MONDAY + timedelta(days=14)) == [(request.id, SlaPeriod.CLOSE)]
    assert raised == [(request.id, SlaPeriod.CLAIM)] * 2 + [(request.id, SlaPeriod.CLOSE)]


async def test_two_instances_planning_at_once_raise_a_request_once(pg_uow: UowFactory) -> None:
    await submitted(pg_uow)
    at = MONDAY + timedelta(days=3)

    async def queue(uow: HelpRequestUnitOfWork, req: HelpRequest, period: SlaPeriod) -> None:
        pass

    async def plan() -> list[tuple[int, SlaPeriod]]:
        async with pg_uow() as uow:
            return await remind_overdue(uow=uow, sla=SlaSettings(), now=at, queue=queue)

    results = await asyncio.gather(*(plan() for _ in range(4)))
    assert sum(len(result) for result in results) == 1


async def test_a_linked_channel_wins_over_the_setting_and_a_new_link_replaces_it(
    new_uow: UowFactory,
) -> None:
    channel = BureauChannel(
        uow_factory=new_uow, team_id="team-bureau", configured_channel_id="19:from-settings"
    )
    assert await channel.channel_id() == "19:from-settings"

    await channel.link(channel_id="19:first", by=ANNA.id)
    await channel.link(channel_id="19:second", by=BRAM.id)

    assert await channel.channel_id() == "19:second"
    unset = BureauChannel(uow_factory=new_uow, team_id="")
    assert await unset.channel_id() is None


async def count_requests(new_uow: UowFactory) -> int:
    async with new_uow() as uow:
        return len(await actions.my_requests(uow=uow, requester_id=REQUESTER.id))


async def test_the_same_submission_twice_is_stored_once_and_posted_once(
    new_uow: UowFactory,
) -> None:
    first = await submitted(new_uow, submission="summary-1")
    again = await submitted(new_uow, submission="summary-1")
    other = await submitted(new_uow, submission="summary-2")

    assert again.id == first.id and other.id != first.id
    assert await count_requests(new_uow) == 2
    async with new_uow() as uow:
        audit = await uow.help_requests.audit(first.id)
    assert [entry.action for entry in audit].count(AuditAction.CREATED) == 1


async def test_requests_without_a_submission_key_never_clash(new_uow: UowFactory) -> None:
    await submitted(new_uow)
    await submitted(new_uow)
    assert await count_requests(new_uow) == 2


async def test_the_same_submission_at_once_on_postgresql_is_stored_once(
    pg_uow: UowFactory,
) -> None:
    async def send() -> HelpRequest:
        return await submitted(pg_uow, submission="pressed-five-times")

    stored = await asyncio.gather(*(send() for _ in range(5)))

    assert len({request.id for request in stored}) == 1
    assert await count_requests(pg_uow) == 1


KEY = "0123456789abcdef0123456789abcdef"  # as a card's form carries it (new_submission)
NOTE = "1" * 32
ANSWER = "2" * 32


async def kept(new_uow: UowFactory, request_id: int) -> tuple[list[MessageKind], int, int]:
    """The request's messages, its audit rows and the outbox's messages (all states)."""
    async with new_uow() as uow:
        messages = [m.kind for m in await uow.help_requests.messages(request_id)]
        audit = len(await uow.help_requests.audit(request_id))
        queued = sum((await uow.outbox.status(now=MONDAY)).by_state.values())
    return messages, audit, queued


async def test_a_reply_note_or_answer_sent_twice_from_one_card_is_kept_and_relayed_once(
    new_uow: UowFactory,
) -> None:
    # A double click on 'Antwoorden' relayed the reply to the requester twice.
    request = await submitted(new_uow)
    before = await kept(new_uow, request.id)
    for _ in range(2):
        async with new_uow() as uow:
            await actions.reply(
                uow=uow, request_id=request.id, actor=ANNA, text="Hoi!", now=MONDAY, submission=KEY
            )
    once = await kept(new_uow, request.id)
    assert once[0] == [MessageKind.REPLY]
    assert once[1] == before[1] + 1 and once[2] > before[2]  # one audit row, the notice queued

    for _ in range(2):
        async with new_uow() as uow:
            await actions.note(
                uow=uow, request_id=request.id, actor=ANNA, text="Nb", now=MONDAY, submission=NOTE
            )
        async with new_uow() as uow:
            await actions.answer(
                uow=uow,
                request_id=request.id,
                requester=REQUESTER,
                text="Dank je",
                now=MONDAY,
                submission=ANSWER,
            )
    messages, audit, _ = await kept(new_uow, request.id)
    assert messages == [MessageKind.REPLY, MessageKind.NOTE, MessageKind.ANSWER]
    assert audit == before[1] + 3


async def test_replies_without_a_key_or_with_another_key_are_each_kept(new_uow: UowFactory) -> None:
    request = await submitted(new_uow)
    for key in (None, None, KEY, KEY.replace("0", "f")):
        async with new_uow() as uow:
            await actions.reply(
                uow=uow, request_id=request.id, actor=ANNA, text="Hoi!", now=MONDAY, submission=key
            )
    messages, _, _ = await kept(new_uow, request.id)
    assert messages == [MessageKind.REPLY] * 4


async def test_the_same_reply_pressed_at_once_on_postgresql_is_kept_and_relayed_once(
    pg_uow: UowFactory,
) -> None:
    request = await submitted(pg_uow)
    before = await kept(pg_uow, request.id)

    async def press() -> None:
        async with pg_uow() as uow:
            await actions.reply(
                uow=uow, request_id=request.id, actor=ANNA, text="Hoi!", now=MONDAY, submission=KEY
            )

    await asyncio.gather(*(press() for _ in range(5)))

    messages, audit, queued = await kept(pg_uow, request.id)
    assert messages == [MessageKind.REPLY]
    assert audit == before[1] + 1
    assert queued == before[2] + 1  # the requester's notice, once
