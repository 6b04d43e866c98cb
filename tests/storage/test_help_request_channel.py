"""A help request's card in the Bureau's channel: queued with the submit, sealed, then edited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import help_request_actions as actions
from services.help_request_actions import HelpRequestRefused
from services.help_request_channel import (
    CardTitles,
    channel_card_data,
    channel_post_key,
    has_channel_post,
    queue_channel_update,
)
from services.help_requests import HelpRequest, SlaPeriod, Status
from services.sla import SlaSettings, remind_in_channel
from storage.models import OutboxMessage
from tests.storage.test_help_requests import (
    ANNA,
    MONDAY,
    SECRET,
    UowFactory,
    cipher,  # noqa: F401 (a fixture)
    new_request,
    new_uow,  # noqa: F401 (a fixture)
)

CHANNEL = "19:hulpvragen@thread.tacv2"
TITLES = CardTitles(
    themes={"sociale-veiligheid": {"nl": "Sociale veiligheid", "en": "Social safety"}},
    offers={"vertrouwenspersoon": {"nl": "Vertrouwenspersoon", "en": "Confidential counsellor"}},
)
SessionFactory = async_sessionmaker[AsyncSession]


async def outbox_rows(session_factory: SessionFactory) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_the_submit_queues_the_card_in_the_channel_with_the_text_sealed(
    new_uow: UowFactory,  # noqa: F811
    db_session_factory: SessionFactory,
) -> None:
    async with new_uow() as uow:
        request = await actions.submit(
            uow=uow, request=new_request(), now=MONDAY, channel_id=CHANNEL, titles=TITLES
        )

    [row] = await outbox_rows(db_session_factory)
    assert (row.idempotency_key, row.recipient_owner, row.template) == (
        channel_post_key(request.id), CHANNEL, "help_request_channel",
    )  # fmt: skip
    assert SECRET not in row.data and "Sanne" not in row.data
    data = json.loads(row.data)
    assert (data["status"], data["priority"], data["theme"]["nl"]) == (
        "new", "spoed", "Sociale veiligheid",
    )  # fmt: skip
    async with new_uow() as uow:
        [claimed] = await uow.outbox.claim(
            owner="test", now=MONDAY + timedelta(seconds=1), lease=timedelta(seconds=60), limit=5
        )
    assert (claimed.data["text"], claimed.data["requester"]) == (SECRET, "Sanne de Vries")


async def test_without_a_channel_the_request_is_kept_and_nothing_is_queued(
    new_uow: UowFactory,  # noqa: F811
    db_session_factory: SessionFactory,
) -> None:
    async with new_uow() as uow:
        request = await actions.submit(uow=uow, request=new_request(), now=MONDAY)
    async with new_uow() as uow:
        assert not await has_channel_post(uow, request.id)
        assert not await queue_channel_update(
            uow=uow, request=request, now=MONDAY, titles=TITLES, why="withdrawn"
        )

    assert await outbox_rows(db_session_factory) == []


async def test_a_refused_submit_queues_no_card(
    new_uow: UowFactory,  # noqa: F811
    db_session_factory: SessionFactory,
) -> None:
    async with new_uow() as uow:
        with pytest.raises(HelpRequestRefused):
            await actions.submit(
                uow=uow, request=new_request(text="  "), now=MONDAY, channel_id=CHANNEL
            )

    assert await outbox_rows(db_session_factory) == []


async def test_an_update_of_the_card_is_queued_once_per_change_as_an_edit_of_the_post(
    new_uow: UowFactory,  # noqa: F811
    db_session_factory: SessionFactory,
) -> None:
    async with new_uow() as uow:
        request = await actions.submit(
            uow=uow, request=new_request(), now=MONDAY, channel_id=CHANNEL, titles=TITLES
        )
    async with new_uow() as uow:
        claimed = await actions.claim(uow=uow, request_id=request.id, by=ANNA, now=MONDAY)
    for _ in range(2):
        async with new_uow() as uow:
            await queue_channel_update(
                uow=uow, request=claimed.request, now=MONDAY, titles=TITLES, why="claimed"
            )
            await uow.commit()

    rows = await outbox_rows(db_session_factory)
    # The claim's notice to the requester aside, the post and one update: the second repeated it.
    post, update = [r for r in rows if r.idempotency_key.startswith(channel_post_key(request.id))]
    assert post.idempotency_key == channel_post_key(request.id)
    assert (update.action, update.target_key) == ("update", channel_post_key(request.id))
    assert json.loads(update.data)["claimed_by"] == "Anna Bureau"
    assert SECRET not in update.data


def test_the_card_data_says_what_the_bureau_may_do_next_in_the_order_of_the_work() -> None:
    request = _stored(Status.IN_PROGRESS)

    data = channel_card_data(request, now=MONDAY + timedelta(days=2), titles=TITLES)

    assert data["transitions"] == ["waiting_for_requester", "referred", "closed"]
    assert data["age_days"] == 2
    assert data["suggestions"] == [
        {
            "offer": {"nl": "Vertrouwenspersoon", "en": "Confidential counsellor"},
            "reasons": ["need"],
        }
    ]


def _stored(status: Status) -> HelpRequest:
    base = new_request()
    return HelpRequest(
        **{f: getattr(base, f) for f in base.__dataclass_fields__},
        id=4,
        status=status,
        claimed_by=ANNA,
        assigned_to=ANNA,
        created_at=MONDAY,
        updated_at=MONDAY,
        closed_at=None,
    )


async def test_an_overdue_request_without_a_card_is_noted_reminded_without_a_message(
    new_uow: UowFactory,  # noqa: F811
    db_session_factory: SessionFactory,
) -> None:
    async with new_uow() as uow:
        request = await actions.submit(uow=uow, request=new_request(), now=MONDAY)

    async with new_uow() as uow:
        raised = await remind_in_channel(uow=uow, sla=SlaSettings(), now=MONDAY + timedelta(7))

    assert raised == [(request.id, SlaPeriod.CLAIM)]
    assert await outbox_rows(db_session_factory) == []
