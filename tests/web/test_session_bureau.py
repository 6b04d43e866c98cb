"""The Bureau manages sessions in its channel: Teams-shaped commands and Universal Actions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.app import APP_KEY
from bot.card_text import CardText, card_text
from bot.chat import TeamsUser
from content.verbs import VERB_FIELD, Verb
from services.session_types import AMSTERDAM
from storage.db import create_session_factory
from storage.uow import UnitOfWork
from tests.web.bureau import account, bureau_bot, in_channel, says_to_bot
from tests.web.conftest import RunningBot
from tests.web.test_messages import cards
from tests.web.test_sessions import _in_a_month, button, outbox, plan, text_of

MEMBER = "aad-bureau-sessions"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    bureau = TeamsUser("", "", "", aad_object_id=MEMBER)
    async for running in bureau_bot(tmp_path, [account(bureau, "Fatima")]):
        yield running


def member(bot: RunningBot, **fields: Any) -> TeamsUser:
    return bot.user(aad_object_id=MEMBER, **fields)


async def execute(
    bot: RunningBot, user: TeamsUser, verb: Verb, reply_to: str | None = None, **data: Any
) -> tuple[CardText, list[CardText]]:
    """Press an Action.Execute in the channel: the card that answers it, and new messages."""
    before = len(bot.connector.messages())
    activity = in_channel(user.executes(verb.value, data), reply_to=reply_to)
    async with bot.http.post(bot.url + "/api/messages", json=activity) as response:
        assert response.status == 200
        body = await response.json()
    answer = body["value"]
    shown = card_text(answer) if isinstance(answer, dict) else CardText()
    new = [card_text(c) for c in cards(bot.connector.messages()[before:])]
    return shown, new


def lines(card: CardText) -> str:
    return "\n".join(card.lines)


def form(day: datetime, **changes: str) -> dict[str, str]:
    local = day.astimezone(AMSTERDAM)
    values = {
        "offer": "wethoudersgesprekken",
        "date": local.date().isoformat(),
        "time": "15:00",
        "duration": "90",
        "capacity": "8",
        "location": "Stadhuis, kamer 2",
        "theme": "Inclusief leidinggeven",
        "questions": "Wat merk je sinds het rapport?\nWat heb je nodig?",
        "audience": "managers",
        "deadline_date": (local.date() - timedelta(days=3)).isoformat(),
        "deadline_time": "17:00",
    }
    values.update(changes)
    return values


async def sign_up_as(bot: RunningBot, name: str, session_id: int, **inputs: str) -> TeamsUser:
    user = bot.user()
    values = {"function": "Teamleider", "directorate": "Belastingen", "manager": "yes"}
    values.update({"consent": "true", **inputs})
    activity = user.presses(
        {VERB_FIELD: Verb.SESSION_SIGNUP.value, "session": session_id, **values}
    )
    activity["from"]["name"] = name
    status, _ = await bot.send(activity)
    assert status in (200, 201)
    return user


async def test_a_member_plans_a_session_from_the_form_the_command_opens(bot: RunningBot) -> None:
    _, messages = await bot.send(says_to_bot(member(bot), "nieuw gesprek"))
    (form_card,) = [card_text(c) for c in cards(messages)]
    assert "Nieuw gesprek plannen" in lines(form_card)
    assert {i.id for i in form_card.inputs} >= {"date", "time", "theme", "capacity", "audience"}

    day = _in_a_month()
    shown, _ = await execute(bot, member(bot), Verb.SESSION_CREATE, **form(day))

    assert "Het gesprek is gepland" in lines(shown)
    assert "15.00 tot 16.30 uur" in lines(shown)
    assert "Stadhuis, kamer 2" in lines(shown)
    assert "0 van 8 bezet, 0 op de wachtlijst" in lines(shown)
    assert {b.title for b in shown.buttons} >= {"Deelnemers en wachtlijst", "Wijzigen"}
    manager = await bot.send(bot.user().presses({VERB_FIELD: Verb.WETHOUDER.value}))
    listing = [card_text(c) for c in cards(manager[1])]
    assert "Inclusief leidinggeven" in text_of(listing)
    assert "Stadhuis, kamer 2" in text_of(listing)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"theme": ""}, "Vul de datum, de begintijd en het thema in"),
        ({"date": "2020-01-01", "deadline_date": ""}, "Het gesprek moet in de toekomst liggen"),
        ({"capacity": "0"}, "hele getallen boven 0"),
        ({"deadline_date": "2099-01-01"}, "Aanmelden moet stoppen voor het gesprek begint"),
    ],
)
async def test_a_form_with_a_problem_comes_back_with_what_was_typed(
    bot: RunningBot, changes: dict[str, str], problem: str
) -> None:
    shown, _ = await execute(
        bot, member(bot), Verb.SESSION_CREATE, **form(_in_a_month(), **changes)
    )

    assert problem in lines(shown)
    assert any(i.id == "theme" for i in shown.inputs)
    _, listing = await bot.send(says_to_bot(member(bot), "gesprekken"))
    assert "Er zijn geen gesprekken gepland" in text_of([card_text(c) for c in cards(listing)])


async def test_the_sessions_command_posts_a_card_for_each_planned_session(
    bot: RunningBot,
) -> None:
    first = await plan(bot)
    await plan(bot, starts_at=first.starts_at + timedelta(days=30), theme="Taal en toon")

    _, messages = await bot.send(says_to_bot(member(bot, locale="en-US"), "sessions"))

    shown = [card_text(c) for c in cards(messages)]
    assert "Planned sessions" in lines(shown[0])
    assert len(shown) == 3
    assert "Taal en toon" in lines(shown[2])
    assert button(shown[1:2], "Participants and waiting list").data["session"] == first.id

    _, new = await execute(bot, member(bot, locale="en-US"), Verb.SESSION_NEW)
    assert "Plan a new session" in lines(new[0])


async def test_a_change_reaches_everyone_signed_up(bot: RunningBot) -> None:
    session = await plan(bot)
    manager = await sign_up_as(bot, "Sam de Vries", session.id)

    edit, _ = await execute(
        bot, member(bot), Verb.SESSION_EDIT, reply_to="activity-1", session=session.id
    )
    assert not [r for r in bot.connector.requests if r[0] == "PUT"]  # the form is theirs alone
    values = {i.id: i for i in edit.inputs}
    assert "Gesprek wijzigen" in lines(edit)
    assert "theme" in values
    assert "offer" not in values  # a session stays with the offer it was planned for

    shown, _ = await execute(
        bot,
        member(bot),
        Verb.SESSION_CHANGE,
        session=session.id,
        **form(session.starts_at, time="16:00", location="Amstelpark 22"),
    )

    assert "Het gesprek is gewijzigd" in lines(shown)
    assert "16.00 tot 17.30 uur" in lines(shown)
    queued = await outbox(bot, manager.aad_object_id)
    changed = [m for m in queued if m.template == "session_changed"]
    assert [m.kind for m in changed] == ["urgent"]
    assert json.loads(changed[0].data)["s"]["when"]["start_hour"] == 16


async def test_too_few_places_for_those_signed_up_is_refused(bot: RunningBot) -> None:
    session = await plan(bot)
    for n in range(3):
        await sign_up_as(bot, f"Naam {n}", session.id)

    shown, _ = await execute(
        bot,
        member(bot),
        Verb.SESSION_CHANGE,
        session=session.id,
        **form(session.starts_at, capacity="2"),
    )

    assert "Er hebben al meer mensen een plek" in lines(shown)


async def test_cancelling_tells_everyone_and_clears_their_reminders(bot: RunningBot) -> None:
    session = await plan(bot)
    manager = await sign_up_as(bot, "Sam de Vries", session.id)

    shown, _ = await execute(bot, member(bot), Verb.SESSION_CALL_OFF, session=session.id)

    assert "Het gesprek is afgelast" in lines(shown)
    assert "Afgelast" in lines(shown)
    assert {b.title for b in shown.buttons} == {"Deelnemers en wachtlijst"}
    queued = await outbox(bot, manager.aad_object_id)
    assert {m.state for m in queued if m.kind in ("reminder", "evaluation")} == {"skipped"}
    assert [m.template for m in queued if m.state != "skipped"] == ["session_cancelled"]
    again, _ = await execute(bot, member(bot), Verb.SESSION_EDIT, session=session.id)
    assert "afgelast of al geweest" in lines(again)


async def test_the_participant_table_and_its_csv_for_the_wethouder(bot: RunningBot) -> None:
    session = await plan(bot, capacity=2)
    await sign_up_as(bot, "Sam de Vries", session.id)
    await sign_up_as(bot, '=HYPERLINK("http://x")', session.id, function="@SUM(1)")
    await sign_up_as(bot, "Noor El Amrani", session.id, directorate="Wonen")

    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)

    (lists,) = new
    text = lines(lists)
    assert "Sam de Vries" in text and "Teamleider" in text and "Belastingen" in text
    assert "1. Noor El Amrani, Teamleider, Wonen" in text
    csv_url = button(new, "Download als CSV").url
    parts = urlsplit(csv_url)
    async with bot.http.get(f"{bot.url}{parts.path}?{parts.query}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.headers["Cache-Control"] == "no-store"
        body = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows == [
        ["Naam", "Functie", "Directie"],
        ["Sam de Vries", "Teamleider", "Belastingen"],
        ['\'=HYPERLINK("http://x")', "'@SUM(1)", "Belastingen"],
    ]


async def test_a_csv_link_is_signed_and_short_lived(bot: RunningBot) -> None:
    session = await plan(bot)
    links = bot.app[APP_KEY].participant_files.links
    stale = links.url(session_id=session.id, now=datetime.now(UTC) - timedelta(hours=1), lang="nl")
    fresh = links.url(session_id=session.id, now=datetime.now(UTC), lang="nl")
    _, expires, signature = urlsplit(fresh).path.rsplit("/", 1)[1].split("-", 2)

    async def status(path: str) -> int:
        async with bot.http.get(bot.url + path) as response:
            return response.status

    assert await status(urlsplit(stale).path) == 410
    assert await status(urlsplit(fresh).path) == 200
    assert await status(f"/sessions/participants/{session.id + 1}-{expires}-{signature}") == 404
    later = int(expires) + 3600
    assert await status(f"/sessions/participants/{session.id}-{later}-{signature}") == 404


async def test_removing_a_participant_offers_the_place_to_the_waiting_list(
    bot: RunningBot,
) -> None:
    session = await plan(bot, capacity=1)
    first = await sign_up_as(bot, "Sam de Vries", session.id)
    second = await sign_up_as(bot, "Noor El Amrani", session.id)
    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)
    (choice,) = [i for i in new[0].inputs if i.id == "registration"]
    sam = next(value for title, value in choice.choices if title == "Sam de Vries")

    shown, _ = await execute(
        bot, member(bot), Verb.SESSION_REMOVE, session=session.id, registration=sam
    )

    assert "Afgemeld" in lines(shown)
    assert "Sam de Vries" not in lines(shown).split("Iemand afmelden")[0]
    assert [m.template for m in await outbox(bot, first.aad_object_id) if m.state == "pending"] == [
        "session_removed"
    ]
    assert "session_place_offered" in [m.template for m in await outbox(bot, second.aad_object_id)]
    again, _ = await execute(
        bot, member(bot), Verb.SESSION_REMOVE, session=session.id, registration=sam
    )
    assert "was al afgemeld" in lines(again)


async def test_someone_outside_the_bureau_cannot_plan_change_or_see_the_lists(
    bot: RunningBot,
) -> None:
    session = await plan(bot)
    await sign_up_as(bot, "Sam de Vries", session.id)
    outsider = bot.user()

    for verb, data in (
        (Verb.SESSION_CREATE, form(_in_a_month())),
        (Verb.SESSION_CALL_OFF, {"session": session.id}),
        (Verb.SESSION_PARTICIPANTS, {"session": session.id}),
    ):
        shown, new = await execute(bot, outsider, verb, **data)
        assert "Sam de Vries" not in lines(shown) + text_of(new)
    personal = await bot.send(
        outsider.presses({VERB_FIELD: Verb.SESSION_PARTICIPANTS.value, "session": session.id})
    )
    assert "Sam de Vries" not in text_of([card_text(c) for c in cards(personal[1])])
    _, refused = await bot.send(says_to_bot(outsider, "nieuw gesprek"))
    assert "Dit kan alleen een lid van Bureau I&D" in refused[0]["text"]
    _, listing = await bot.send(says_to_bot(member(bot), "gesprekken"))
    shown = [card_text(c) for c in cards(listing)]
    assert len(shown) == 2  # the header and the one planned session: nothing was created
    assert "Afgelast" not in lines(shown[1])


async def test_the_session_card_refreshes_to_the_places_taken_now(bot: RunningBot) -> None:
    session = await plan(bot)
    _, messages = await bot.send(says_to_bot(member(bot), "gesprekken"))
    card = cards(messages)[1]
    assert card["refresh"]["action"]["verb"] == Verb.SESSION_SHOW.value
    assert card["refresh"]["userIds"] == [f"29:{MEMBER}"]  # the team as the roster read it
    await sign_up_as(bot, "Sam de Vries", session.id)

    edits = [r for r in bot.connector.requests if r[0] == "PUT"]
    shown, _ = await execute(
        bot,
        member(bot),
        Verb.SESSION_SHOW,
        reply_to="activity-1",
        **card["refresh"]["action"]["data"],
    )

    assert "1 van 8 bezet, 0 op de wachtlijst" in lines(shown)
    assert [r for r in bot.connector.requests if r[0] == "PUT"] == edits  # a view edits nothing


async def test_a_held_session_shows_the_anonymous_rating_and_remarks(bot: RunningBot) -> None:
    session = await plan(bot)
    async with UnitOfWork(create_session_factory(bot.app[APP_KEY].engine)) as uow:
        for rating, remark in ((5, "Fijn dat de wethouder luisterde."), (4, None), (4, "Te kort")):
            await uow.sessions.add_evaluation(session_id=session.id, rating=rating, remark=remark)
        await uow.commit()

    shown, _ = await execute(bot, member(bot), Verb.SESSION_SHOW, session=session.id)
    _, new = await execute(bot, member(bot), Verb.SESSION_PARTICIPANTS, session=session.id)

    assert "4,3 gemiddeld (3 antwoorden, zonder namen)" in lines(shown)
    assert "- Fijn dat de wethouder luisterde.\n- Te kort" in lines(new[0])


@pytest.mark.postgres
async def test_on_postgresql_the_bureau_plans_removes_and_the_place_passes_on(
    tmp_path: Path, postgres_url: str
) -> None:
    bureau = TeamsUser("", "", "", aad_object_id=MEMBER)
    async for pg_bot in bureau_bot(tmp_path, [account(bureau)], database_url=postgres_url):
        created, _ = await execute(
            pg_bot, member(pg_bot), Verb.SESSION_CREATE, **form(_in_a_month(), capacity="1")
        )
        session_id = next(b for b in created.buttons if b.verb == Verb.SESSION_EDIT.value).data[
            "session"
        ]
        first = await sign_up_as(pg_bot, "Sam de Vries", session_id)
        second = await sign_up_as(pg_bot, "Noor El Amrani", session_id)
        _, new = await execute(
            pg_bot, member(pg_bot), Verb.SESSION_PARTICIPANTS, session=session_id
        )
        (choice,) = [i for i in new[0].inputs if i.id == "registration"]
        sam = next(value for title, value in choice.choices if title == "Sam de Vries")

        await execute(
            pg_bot, member(pg_bot), Verb.SESSION_REMOVE, session=session_id, registration=sam
        )

        assert "session_removed" in [m.template for m in await outbox(pg_bot, first.aad_object_id)]
        offered = [m.template for m in await outbox(pg_bot, second.aad_object_id)]
        assert "session_place_offered" in offered
