"""Every session card is a valid Adaptive Card 1.5 in Dutch and English, rendered from the data
the services really queue in the outbox and the handlers really pass."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft6Validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from content.templates import Templates, load_templates
from services.session_admin import cancel_session, change_session
from services.session_messages import Notice, SessionRules
from services.session_schedule import close_signups
from services.session_types import local_when
from services.sessions import cancel_registration, expire_offers, sign_up
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.bot.test_cards import assert_valid
from tests.bot.test_cards import validator as validator
from tests.sessions.conftest import START, details
from tests.sessions.fakes import NOW, applicant

UowFactory = Callable[[], UnitOfWork]
RULES = SessionRules()


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


async def _every_notice(
    uow_factory: UowFactory, session_factory: async_sessionmaker[AsyncSession], session_id: int
) -> list[tuple[str, dict[str, Any]]]:
    """Drive a session through every notice and return what the outbox holds."""
    for n in range(13):  # 8 places, then a waiting list longer than the places freed below
        async with uow_factory() as uow:
            await sign_up(
                uow=uow, session_id=session_id, applicant=applicant(n), now=NOW, rules=RULES
            )
    async with uow_factory() as uow:
        await cancel_registration(
            uow=uow, session_id=session_id, person="aad-0", now=NOW, rules=RULES
        )
    async with uow_factory() as uow:
        await cancel_registration(
            uow=uow, session_id=session_id, person="aad-1", now=NOW, rules=RULES, by_bureau=True
        )
    async with uow_factory() as uow:
        await expire_offers(uow=uow, now=NOW + timedelta(days=2), rules=RULES)
    async with uow_factory() as uow:
        await close_signups(uow=uow, now=START - timedelta(days=3))  # the last one waiting
    async with uow_factory() as uow:
        await change_session(
            uow=uow,
            session_id=session_id,
            details=details(location=None, starts_at=START + timedelta(hours=1)),
            now=NOW,
            rules=RULES,
        )
    async with uow_factory() as uow:
        await cancel_session(uow=uow, session_id=session_id, now=NOW)
    async with session_factory() as db:
        rows = await db.scalars(select(OutboxMessage))
        return [(row.template, json.loads(row.data)) for row in rows]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_queued_session_message_renders_a_valid_card(
    uow_factory: UowFactory,
    db_session_factory: async_sessionmaker[AsyncSession],
    planned: Any,
    templates: Templates,
    validator: Draft6Validator,
) -> None:
    queued = await _every_notice(uow_factory, db_session_factory, planned.id)

    assert {template for template, _ in queued} == {notice.value for notice in Notice}
    for template, data in queued:
        for lang in ("nl", "en"):
            assert_valid(templates.card(template, lang, **data), validator)


def _views(planned: Any) -> list[tuple[str, dict[str, Any]]]:
    s = planned.details()
    until = local_when(NOW, NOW)
    full = {**s, "places_left": 0, "location": None, "questions": []}
    mine = [
        {"session": s, "status": "confirmed", "position": None, "until": None},
        {"session": full, "status": "waiting", "position": 3, "until": None},
        {"session": s, "status": "offered", "position": None, "until": until},
    ]
    form_values = {"function": "Teamleider", "directorate": "X", "manager": "yes"}
    return [
        ("sessions", {"sessions": [s, full]}),
        ("sessions", {"sessions": []}),
        ("session_form", {"s": s, "values": {}, "problem": None}),
        ("session_form", {"s": full, "values": form_values, "problem": "session_form_no_consent"}),
        *[
            (
                "session_signed_up",
                {"title": title, "text": text, "s": s, "position": 2},
            )
            for title, text in [
                ("session_confirmed_title", "session_confirmed_text"),
                ("session_waiting_title", "session_waiting_text"),
                ("session_already_title", "session_already_waiting"),
            ]
        ],
        ("session_not_for_role", {"sessions": [s]}),
        ("session_not_for_role", {"sessions": []}),
        ("my_sessions", {"registrations": mine, "notice": "session_cancelled_by_you"}),
        ("my_sessions", {"registrations": [], "notice": None}),
        ("session_evaluation", {"s": s, "problem": "session_evaluation_missing"}),
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_every_card_a_handler_shows_is_valid(
    planned: Any, templates: Templates, validator: Draft6Validator, lang: str
) -> None:
    for name, values in _views(planned):
        assert_valid(templates.card(name, lang, **values), validator)  # type: ignore[arg-type]
